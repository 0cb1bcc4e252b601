ALTER TABLE `job_items` ADD `customer_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `job_items_customer_due_idx` ON `job_items` (`customer_id`,`available_at`,`job_id`,`n`) WHERE "job_items"."state" in ('queued', 'running', 'finishing');--> statement-breakpoint
ALTER TABLE `jobs` ADD `served_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `jobs_unfinished_idx` ON `jobs` (`customer_id`,`served_seq`) WHERE "jobs"."finished_at" is null;