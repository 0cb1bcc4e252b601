CREATE TABLE "job_results" (
	"key" text PRIMARY KEY NOT NULL,
	"body" "bytea" NOT NULL
);
