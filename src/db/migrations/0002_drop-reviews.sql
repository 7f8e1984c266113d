DROP TABLE "reviews" CASCADE;--> statement-breakpoint
DROP TYPE "public"."review_decision";