-- Custom SQL migration file, put your code below! --
-- Items queued before 0004 get their job's customer, so the fair claim (job_items_customer_due_idx) finds them.
UPDATE `job_items` SET `customer_id` = (SELECT `customer_id` FROM `jobs` WHERE `jobs`.`id` = `job_items`.`job_id`) WHERE `customer_id` = '';
