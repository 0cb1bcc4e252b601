CREATE TABLE "usage_daily" (
	"day_ms" bigint NOT NULL,
	"customer_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"peak" boolean NOT NULL,
	"currency" text NOT NULL,
	"events" bigint NOT NULL,
	"tokens" bigint NOT NULL,
	"audio_ms" bigint NOT NULL,
	"input_chars" bigint NOT NULL,
	"amount_micros" bigint NOT NULL,
	CONSTRAINT "usage_daily_pk" PRIMARY KEY("day_ms","plan_id","customer_id","peak","currency"),
	CONSTRAINT "usage_daily_amount_check" CHECK ("amount_micros" >= 0),
	CONSTRAINT "usage_daily_tokens_check" CHECK ("tokens" >= 0)
);
--> statement-breakpoint
CREATE TABLE "usage_daily_plans" (
	"day_ms" bigint NOT NULL,
	"plan_id" text NOT NULL,
	"peak" boolean NOT NULL,
	"currency" text NOT NULL,
	"events" bigint NOT NULL,
	"tokens" bigint NOT NULL,
	"audio_ms" bigint NOT NULL,
	"input_chars" bigint NOT NULL,
	"amount_micros" bigint NOT NULL,
	CONSTRAINT "usage_daily_plans_pk" PRIMARY KEY("day_ms","plan_id","peak","currency"),
	CONSTRAINT "usage_daily_plans_amount_check" CHECK ("amount_micros" >= 0),
	CONSTRAINT "usage_daily_plans_tokens_check" CHECK ("tokens" >= 0)
);
--> statement-breakpoint
CREATE TABLE "usage_monthly_customers" (
	"month_ms" bigint NOT NULL,
	"customer_id" text NOT NULL,
	"peak" boolean NOT NULL,
	"currency" text NOT NULL,
	"events" bigint NOT NULL,
	"tokens" bigint NOT NULL,
	"amount_micros" bigint NOT NULL,
	CONSTRAINT "usage_monthly_customers_pk" PRIMARY KEY("month_ms","customer_id","peak","currency"),
	CONSTRAINT "usage_monthly_customers_amount_check" CHECK ("amount_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE "usage_rollup_state" (
	"id" bigint PRIMARY KEY NOT NULL,
	"folded_through" bigint NOT NULL,
	CONSTRAINT "usage_rollup_state_single_row" CHECK ("id" = 1)
);
--> statement-breakpoint
CREATE TABLE "usage_token_counts" (
	"day_ms" bigint NOT NULL,
	"plan_id" text NOT NULL,
	"peak" boolean NOT NULL,
	"currency" text NOT NULL,
	"tokens" bigint NOT NULL,
	"events" bigint NOT NULL,
	CONSTRAINT "usage_token_counts_pk" PRIMARY KEY("plan_id","day_ms","peak","currency","tokens"),
	CONSTRAINT "usage_token_counts_events_check" CHECK ("events" >= 0)
);
--> statement-breakpoint
CREATE INDEX "usage_daily_customer_day_idx" ON "usage_daily" USING btree ("customer_id","day_ms");