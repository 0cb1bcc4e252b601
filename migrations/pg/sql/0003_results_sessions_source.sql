CREATE TABLE "console_session_revocations" (
	"session_id" text PRIMARY KEY NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_results" (
	"key" text PRIMARY KEY NOT NULL,
	"body" "bytea" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "source" text DEFAULT 'api' NOT NULL;--> statement-breakpoint
CREATE INDEX "console_session_revocations_expires_idx" ON "console_session_revocations" USING btree ("expires_at");