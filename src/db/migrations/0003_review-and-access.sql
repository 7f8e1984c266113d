CREATE TYPE "public"."lung_rads_category" AS ENUM('0', '1', '2', '3', '4A', '4B', '4X');--> statement-breakpoint
CREATE TYPE "public"."study_review_status" AS ENUM('awaiting-ai', 'ready', 'in-review', 'signed-off');--> statement-breakpoint
CREATE TYPE "public"."nodule_decision" AS ENUM('pending', 'accepted', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."nodule_origin" AS ENUM('ai', 'reader');--> statement-breakpoint
CREATE TYPE "public"."review_action" AS ENUM('accept', 'reject', 'edit', 'add', 'sign-off');--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"token_sha256" text NOT NULL,
	"label" text NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_institutions" (
	"user_id" uuid NOT NULL,
	"institution_id" uuid NOT NULL,
	CONSTRAINT "user_institutions_user_id_institution_id_pk" PRIMARY KEY("user_id","institution_id")
);
--> statement-breakpoint
CREATE TABLE "study_reviews" (
	"study_id" uuid PRIMARY KEY NOT NULL,
	"institution_id" uuid NOT NULL,
	"status" "study_review_status" DEFAULT 'awaiting-ai' NOT NULL,
	"ai_category" "lung_rads_category",
	"category" "lung_rads_category",
	"triage_rank" smallint DEFAULT 0 NOT NULL,
	"lung_rads" jsonb,
	"final_category" "lung_rads_category",
	"signed_off_by" uuid,
	"signed_off_at" timestamp with time zone,
	"waiting_since" timestamp with time zone NOT NULL,
	"study_date" date,
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviewed_nodules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"series_id" uuid NOT NULL,
	"finding_id" uuid,
	"origin" "nodule_origin" NOT NULL,
	"decision" "nodule_decision" DEFAULT 'pending' NOT NULL,
	"reject_reason" text,
	"centre_lps" double precision[] NOT NULL,
	"long_axis_mm" double precision NOT NULL,
	"short_axis_mm" double precision NOT NULL,
	"mean_diameter_mm" double precision NOT NULL,
	"volume_mm3" double precision,
	"type" "nodule_type" NOT NULL,
	"solid_component_mm" double precision,
	"juxtapleural" boolean DEFAULT false NOT NULL,
	"calcified_benign" boolean DEFAULT false NOT NULL,
	"suspicious_features" boolean DEFAULT false NOT NULL,
	"edited" boolean DEFAULT false NOT NULL,
	"last_actor_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"study_id" uuid NOT NULL,
	"nodule_id" uuid,
	"actor_user_id" uuid NOT NULL,
	"action" "review_action" NOT NULL,
	"study_version" integer NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text
);
--> statement-breakpoint
ALTER TABLE "users" DROP CONSTRAINT "users_institution_id_institutions_id_fk";
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "source_ip" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_institutions" ADD CONSTRAINT "user_institutions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_institutions" ADD CONSTRAINT "user_institutions_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "study_reviews" ADD CONSTRAINT "study_reviews_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "study_reviews" ADD CONSTRAINT "study_reviews_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "study_reviews" ADD CONSTRAINT "study_reviews_signed_off_by_users_id_fk" FOREIGN KEY ("signed_off_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewed_nodules" ADD CONSTRAINT "reviewed_nodules_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewed_nodules" ADD CONSTRAINT "reviewed_nodules_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewed_nodules" ADD CONSTRAINT "reviewed_nodules_finding_id_findings_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."findings"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviewed_nodules" ADD CONSTRAINT "reviewed_nodules_last_actor_id_users_id_fk" FOREIGN KEY ("last_actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_actions" ADD CONSTRAINT "review_actions_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_actions" ADD CONSTRAINT "review_actions_nodule_id_reviewed_nodules_id_fk" FOREIGN KEY ("nodule_id") REFERENCES "public"."reviewed_nodules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_actions" ADD CONSTRAINT "review_actions_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_sha256_key" ON "api_tokens" USING btree ("token_sha256");--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "study_reviews_triage_idx" ON "study_reviews" USING btree ("triage_rank" DESC NULLS LAST,"waiting_since","study_id");--> statement-breakpoint
CREATE INDEX "study_reviews_institution_triage_idx" ON "study_reviews" USING btree ("institution_id","triage_rank" DESC NULLS LAST,"waiting_since","study_id");--> statement-breakpoint
CREATE INDEX "study_reviews_open_triage_idx" ON "study_reviews" USING btree ("triage_rank" DESC NULLS LAST,"waiting_since","study_id") WHERE "study_reviews"."status" <> 'signed-off';--> statement-breakpoint
CREATE INDEX "reviewed_nodules_study_idx" ON "reviewed_nodules" USING btree ("study_id");--> statement-breakpoint
CREATE UNIQUE INDEX "reviewed_nodules_finding_key" ON "reviewed_nodules" USING btree ("finding_id");--> statement-breakpoint
CREATE INDEX "review_actions_study_idx" ON "review_actions" USING btree ("study_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_user_id","occurred_at");--> statement-breakpoint
ALTER TABLE "users" DROP COLUMN "institution_id";