DROP INDEX "study_reviews_open_triage_idx";--> statement-breakpoint
DROP INDEX "study_reviews_triage_idx";--> statement-breakpoint
DROP INDEX "study_reviews_institution_triage_idx";--> statement-breakpoint
ALTER TABLE "study_reviews" ADD COLUMN "nodule_count" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "study_reviews_triage_idx" ON "study_reviews" USING btree ("triage_rank" DESC NULLS LAST,"waiting_since","study_id","status","category","study_date");--> statement-breakpoint
CREATE INDEX "study_reviews_institution_triage_idx" ON "study_reviews" USING btree ("institution_id","triage_rank" DESC NULLS LAST,"waiting_since","study_id","status","category","study_date");--> statement-breakpoint
UPDATE "study_reviews" SET "nodule_count" = (SELECT count(*) FROM "reviewed_nodules" n WHERE n."study_id" = "study_reviews"."study_id" AND n."decision" <> 'rejected');
