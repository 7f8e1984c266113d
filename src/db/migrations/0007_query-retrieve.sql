ALTER TABLE "studies" ADD COLUMN "study_identifier" text;--> statement-breakpoint
ALTER TABLE "series" ADD COLUMN "series_date" date;--> statement-breakpoint
ALTER TABLE "series" ADD COLUMN "series_time" time;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "rows" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "columns" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "bits_allocated" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "number_of_frames" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "metadata" jsonb;--> statement-breakpoint
CREATE INDEX "studies_study_date_idx" ON "studies" USING btree ("study_date");--> statement-breakpoint
CREATE INDEX "studies_accession_number_idx" ON "studies" USING btree ("accession_number");