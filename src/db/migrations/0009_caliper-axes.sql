ALTER TABLE "findings" ADD COLUMN "axes_lps" jsonb;--> statement-breakpoint
ALTER TABLE "reviewed_nodules" ADD COLUMN "axes_lps" jsonb;