CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"hash" text NOT NULL,
	"prefix" text NOT NULL,
	"name" text,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	"last_used_at" bigint,
	CONSTRAINT "api_keys_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_lines" (
	"customer_id" text NOT NULL,
	"period" text NOT NULL,
	"line_key" text NOT NULL,
	"stripe_invoice_item_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "billing_invoice_lines_pk" PRIMARY KEY("customer_id","period","line_key"),
	CONSTRAINT "billing_invoice_lines_stripe_invoice_item_id_unique" UNIQUE("stripe_invoice_item_id")
);
--> statement-breakpoint
CREATE TABLE "billing_invoice_syncs" (
	"customer_id" text NOT NULL,
	"period" text NOT NULL,
	"state" text NOT NULL,
	"currency" text,
	"time_zone" text NOT NULL,
	"from_ms" bigint NOT NULL,
	"to_ms" bigint NOT NULL,
	"events" bigint NOT NULL,
	"tokens" bigint NOT NULL,
	"ledger_micros" bigint NOT NULL,
	"carry_in_micros" bigint NOT NULL,
	"carry_out_micros" bigint NOT NULL,
	"billed_micros" bigint NOT NULL,
	"total_minor" bigint NOT NULL,
	"plan" jsonb NOT NULL,
	"stripe_customer_id" text,
	"stripe_invoice_id" text,
	"stripe_invoice_status" text,
	"stripe_invoice_number" text,
	"stripe_total_minor" bigint,
	"error" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "billing_invoice_syncs_pk" PRIMARY KEY("customer_id","period"),
	CONSTRAINT "billing_invoice_syncs_state_check" CHECK ("state" in ('planned','invoice_created','items_created','finalized','reconciled','drift','nothing_to_bill','blocked')),
	CONSTRAINT "billing_invoice_syncs_period_check" CHECK ("period" ~ '^[0-9][0-9][0-9][0-9]-[0-1][0-9]$'),
	CONSTRAINT "billing_invoice_syncs_ledger_check" CHECK ("ledger_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_carry_in_check" CHECK ("carry_in_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_carry_out_check" CHECK ("carry_out_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_billed_check" CHECK ("billed_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_total_check" CHECK ("total_minor" >= 0),
	CONSTRAINT "billing_invoice_syncs_exact_check" CHECK ("billed_micros" + "carry_out_micros" = "ledger_micros" + "carry_in_micros"),
	CONSTRAINT "billing_invoice_syncs_stripe_total_check" CHECK ("stripe_total_minor" is null or ("stripe_total_minor" >= 0))
);
--> statement-breakpoint
CREATE TABLE "billing_stripe_prices" (
	"price_version_id" text NOT NULL,
	"role" text NOT NULL,
	"stripe_price_id" text NOT NULL,
	"stripe_product_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "billing_stripe_prices_pk" PRIMARY KEY("price_version_id","role"),
	CONSTRAINT "billing_stripe_prices_stripe_price_id_unique" UNIQUE("stripe_price_id"),
	CONSTRAINT "billing_stripe_prices_role_check" CHECK ("role" in ('offpeak','peak','batch','overage','fee'))
);
--> statement-breakpoint
CREATE TABLE "billing_stripe_products" (
	"plan_id" text PRIMARY KEY NOT NULL,
	"stripe_product_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "billing_stripe_products_stripe_product_id_unique" UNIQUE("stripe_product_id")
);
--> statement-breakpoint
CREATE TABLE "billing_subscriptions" (
	"customer_id" text PRIMARY KEY NOT NULL,
	"stripe_subscription_id" text NOT NULL,
	"stripe_price_id" text NOT NULL,
	"price_version_id" text NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "billing_subscriptions_stripe_subscription_id_unique" UNIQUE("stripe_subscription_id")
);
--> statement-breakpoint
CREATE TABLE "billing_unpaid_invoices" (
	"stripe_invoice_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"first_failed_at" bigint NOT NULL,
	"last_failed_at" bigint NOT NULL,
	"failures" bigint NOT NULL,
	"paid_at" bigint,
	"suspended_at" bigint
);
--> statement-breakpoint
CREATE TABLE "billing_webhook_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"outcome" text,
	"attempts" bigint DEFAULT 1 NOT NULL,
	"received_at" bigint NOT NULL,
	"processed_at" bigint,
	CONSTRAINT "billing_webhook_events_state_check" CHECK ("state" in ('processing','done'))
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"plan_id" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"suspended_reason" text,
	"dedicated_pool" text,
	"stripe_customer_id" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "customers_status_check" CHECK ("status" in ('active','suspended'))
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"customer_id" text NOT NULL,
	"key" text NOT NULL,
	"request_id" text NOT NULL,
	"request_hash" text,
	"status" text NOT NULL,
	"response_status" bigint,
	"response_body" "bytea",
	"content_type" text,
	"headers" jsonb,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "idempotency_keys_pk" PRIMARY KEY("customer_id","key"),
	CONSTRAINT "idempotency_keys_status_check" CHECK ("status" in ('in_progress','done'))
);
--> statement-breakpoint
CREATE TABLE "job_items" (
	"job_id" text NOT NULL,
	"n" bigint NOT NULL,
	"customer_id" text DEFAULT '' NOT NULL,
	"text" text NOT NULL,
	"voice" bigint NOT NULL,
	"emotion" text,
	"emotion_vector" jsonb,
	"emotion_alpha" double precision,
	"speed" double precision NOT NULL,
	"seed" bigint NOT NULL,
	"state" text NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"max_attempts" bigint NOT NULL,
	"available_at" bigint NOT NULL,
	"lease_token" text,
	"error_code" text,
	"error_message" text,
	"audio_ms" bigint,
	"tokens" bigint,
	"amount_micros" bigint,
	"pcm_bytes" bigint,
	"pcm_format" text,
	"completed_at" bigint,
	CONSTRAINT "job_items_pk" PRIMARY KEY("job_id","n"),
	CONSTRAINT "job_items_state_check" CHECK ("state" in ('queued','running','finishing','done','failed','cancelled')),
	CONSTRAINT "job_items_attempts_check" CHECK ("attempts" >= 0),
	CONSTRAINT "job_items_max_attempts_check" CHECK ("max_attempts" > 0),
	CONSTRAINT "job_items_amount_check" CHECK ("amount_micros" is null or ("amount_micros" >= 0))
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"pool" text NOT NULL,
	"prefer_off_peak" boolean NOT NULL,
	"item_count" bigint NOT NULL,
	"metadata" jsonb,
	"callback_url" text,
	"callback_secret" text,
	"callback_state" text,
	"callback_attempts" bigint DEFAULT 0 NOT NULL,
	"callback_next_at" bigint,
	"callback_last_error" text,
	"created_at" bigint NOT NULL,
	"cancelled_at" bigint,
	"finished_at" bigint,
	"expires_at" bigint,
	"served_seq" bigint DEFAULT 0 NOT NULL,
	"enqueue_state" text,
	CONSTRAINT "jobs_callback_state_check" CHECK ("callback_state" in ('pending','delivered','failed')),
	CONSTRAINT "jobs_item_count_check" CHECK ("item_count" > 0)
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"pool" text DEFAULT 'shared' NOT NULL,
	"weight" bigint DEFAULT 1 NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "nodes_url_unique" UNIQUE("url"),
	CONSTRAINT "nodes_state_check" CHECK ("state" in ('active','draining','removed')),
	CONSTRAINT "nodes_weight_check" CHECK ("weight" >= 0)
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"currency" text NOT NULL,
	"time_zone" text NOT NULL,
	"requests_per_second" bigint NOT NULL,
	"burst" bigint NOT NULL,
	"max_in_flight" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "plans_kind_check" CHECK ("kind" in ('basic','batch','enterprise')),
	CONSTRAINT "plans_currency_check" CHECK (length("currency") = 3),
	CONSTRAINT "plans_limits_check" CHECK ("requests_per_second" > 0 and "burst" > 0 and "max_in_flight" > 0)
);
--> statement-breakpoint
CREATE TABLE "price_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"plan_id" text NOT NULL,
	"version" bigint NOT NULL,
	"effective_from" bigint NOT NULL,
	"unit_price_micros_per_1k_tokens" bigint NOT NULL,
	"peak_windows" jsonb DEFAULT '[]' NOT NULL,
	"peak_multiplier_bp" bigint DEFAULT 10000 NOT NULL,
	"batch_discount_bp" bigint DEFAULT 0 NOT NULL,
	"monthly_fee_micros" bigint DEFAULT 0 NOT NULL,
	"included_tokens" bigint DEFAULT 0 NOT NULL,
	"overage_price_micros_per_1k_tokens" bigint,
	"stripe_product_id" text,
	"stripe_price_id" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "price_versions_plan_version_unique" UNIQUE("plan_id","version"),
	CONSTRAINT "price_versions_version_check" CHECK ("version" > 0),
	CONSTRAINT "price_versions_unit_price_check" CHECK ("unit_price_micros_per_1k_tokens" >= 0),
	CONSTRAINT "price_versions_peak_multiplier_check" CHECK ("peak_multiplier_bp" >= 0),
	CONSTRAINT "price_versions_batch_discount_check" CHECK ("batch_discount_bp" between 0 and 10000),
	CONSTRAINT "price_versions_monthly_fee_check" CHECK ("monthly_fee_micros" >= 0),
	CONSTRAINT "price_versions_included_tokens_check" CHECK ("included_tokens" >= 0),
	CONSTRAINT "price_versions_overage_price_check" CHECK ("overage_price_micros_per_1k_tokens" is null or ("overage_price_micros_per_1k_tokens" >= 0))
);
--> statement-breakpoint
CREATE TABLE "queue_dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"message_id" text NOT NULL,
	"kind" text NOT NULL,
	"request_id" text,
	"customer_id" text,
	"amount_micros" bigint,
	"currency" text,
	"body" text NOT NULL,
	"problem" text,
	"attempts" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	"resolved_at" bigint,
	"resolution" text,
	"replay_attempts" bigint DEFAULT 0 NOT NULL,
	"next_replay_at" bigint,
	"last_error" text,
	CONSTRAINT "queue_dead_letters_kind_check" CHECK ("kind" in ('usage','job')),
	CONSTRAINT "queue_dead_letters_resolution_check" CHECK ("resolution" in ('replayed','requeued','given_up','discarded'))
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"price_version_id" text NOT NULL,
	"occurred_at" bigint NOT NULL,
	"audio_ms" bigint NOT NULL,
	"tokens" bigint NOT NULL,
	"input_chars" bigint NOT NULL,
	"peak" boolean NOT NULL,
	"multiplier_bp" bigint NOT NULL,
	"amount_micros" bigint NOT NULL,
	"currency" text NOT NULL,
	"node_id" text,
	"priority" text NOT NULL,
	CONSTRAINT "usage_events_request_id_unique" UNIQUE("request_id"),
	CONSTRAINT "usage_events_priority_check" CHECK ("priority" in ('interactive','batch')),
	CONSTRAINT "usage_events_amount_check" CHECK ("amount_micros" >= 0),
	CONSTRAINT "usage_events_tokens_check" CHECK ("tokens" >= 0),
	CONSTRAINT "usage_events_audio_ms_check" CHECK ("audio_ms" >= 0),
	CONSTRAINT "usage_events_input_chars_check" CHECK ("input_chars" >= 0),
	CONSTRAINT "usage_events_multiplier_check" CHECK ("multiplier_bp" >= 0)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_invoice_syncs" ADD CONSTRAINT "billing_invoice_syncs_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_stripe_prices" ADD CONSTRAINT "billing_stripe_prices_price_version_id_price_versions_id_fk" FOREIGN KEY ("price_version_id") REFERENCES "public"."price_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_stripe_products" ADD CONSTRAINT "billing_stripe_products_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_subscriptions" ADD CONSTRAINT "billing_subscriptions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_unpaid_invoices" ADD CONSTRAINT "billing_unpaid_invoices_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_items" ADD CONSTRAINT "job_items_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "price_versions" ADD CONSTRAINT "price_versions_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_price_version_id_price_versions_id_fk" FOREIGN KEY ("price_version_id") REFERENCES "public"."price_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_customer_id_idx" ON "api_keys" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_invoice_syncs_stripe_invoice_unique" ON "billing_invoice_syncs" USING btree ("stripe_invoice_id");--> statement-breakpoint
CREATE INDEX "billing_invoice_syncs_period_idx" ON "billing_invoice_syncs" USING btree ("period","state");--> statement-breakpoint
CREATE INDEX "billing_unpaid_invoices_customer_idx" ON "billing_unpaid_invoices" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "billing_unpaid_open_idx" ON "billing_unpaid_invoices" USING btree ("paid_at");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_stripe_customer_id_unique" ON "customers" USING btree ("stripe_customer_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "job_items_due_idx" ON "job_items" USING btree ("available_at","job_id","n") WHERE "state" in ('queued', 'running', 'finishing');--> statement-breakpoint
CREATE INDEX "job_items_customer_due_idx" ON "job_items" USING btree ("customer_id","available_at","job_id","n") WHERE "state" in ('queued', 'running', 'finishing');--> statement-breakpoint
CREATE INDEX "job_items_job_state_idx" ON "job_items" USING btree ("job_id","state");--> statement-breakpoint
CREATE INDEX "jobs_customer_idx" ON "jobs" USING btree ("customer_id","id");--> statement-breakpoint
CREATE INDEX "jobs_unfinished_idx" ON "jobs" USING btree ("customer_id","served_seq") WHERE "finished_at" is null;--> statement-breakpoint
CREATE INDEX "jobs_expires_idx" ON "jobs" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "jobs_callback_idx" ON "jobs" USING btree ("callback_state","callback_next_at");--> statement-breakpoint
CREATE INDEX "jobs_unqueued_idx" ON "jobs" USING btree ("created_at") WHERE "enqueue_state" in ('pending', 'refused');--> statement-breakpoint
CREATE INDEX "price_versions_plan_effective_idx" ON "price_versions" USING btree ("plan_id","effective_from");--> statement-breakpoint
CREATE UNIQUE INDEX "queue_dead_letters_message_idx" ON "queue_dead_letters" USING btree ("queue","message_id");--> statement-breakpoint
CREATE INDEX "queue_dead_letters_open_idx" ON "queue_dead_letters" USING btree ("kind","resolved_at");--> statement-breakpoint
CREATE INDEX "queue_dead_letters_request_idx" ON "queue_dead_letters" USING btree ("kind","request_id");--> statement-breakpoint
CREATE INDEX "usage_events_customer_occurred_idx" ON "usage_events" USING btree ("customer_id","occurred_at");--> statement-breakpoint
CREATE INDEX "usage_events_occurred_idx" ON "usage_events" USING btree ("occurred_at");