ALTER TABLE `jobs` ADD `enqueue_state` text;--> statement-breakpoint
CREATE INDEX `jobs_unqueued_idx` ON `jobs` (`created_at`) WHERE "jobs"."enqueue_state" in ('pending', 'refused');