CREATE TYPE "public"."share_audience" AS ENUM('patient', 'institution');--> statement-breakpoint
CREATE TYPE "public"."share_second_factor" AS ENUM('none', 'pin', 'birth-date');--> statement-breakpoint
CREATE TYPE "public"."share_opening_outcome" AS ENUM('visited', 'opened', 'wrong-second-factor', 'expired', 'revoked', 'not-yet-valid');--> statement-breakpoint
CREATE TYPE "public"."second_read_opinion" AS ENUM('agree', 'disagree');--> statement-breakpoint
CREATE TABLE "shares" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"audience" "share_audience" NOT NULL,
	"partner_institution_id" uuid,
	"parent_share_id" uuid,
	"secret_sha256" text NOT NULL,
	"scope" jsonb,
	"allow_download" boolean DEFAULT false NOT NULL,
	"second_factor" "share_second_factor" DEFAULT 'none' NOT NULL,
	"pin_hash" text,
	"not_before" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_by_user_id" uuid,
	"offered_by_consortium" boolean DEFAULT false NOT NULL,
	"second_read_due_at" timestamp with time zone,
	"second_read_overdue_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"use_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "share_openings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"share_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outcome" "share_opening_outcome" NOT NULL,
	"address" text,
	"user_agent" text
);
--> statement-breakpoint
CREATE TABLE "share_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"share_id" uuid NOT NULL,
	"session_sha256" text NOT NULL,
	"csrf_token" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "second_reads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"share_id" uuid NOT NULL,
	"reader_user_id" uuid NOT NULL,
	"institution_id" uuid NOT NULL,
	"opinion" "second_read_opinion" NOT NULL,
	"category" "lung_rads_category" NOT NULL,
	"comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consortium_members" (
	"member_institution_id" uuid PRIMARY KEY NOT NULL,
	"hub_institution_id" uuid NOT NULL,
	"second_read_hours" integer NOT NULL,
	"share_hours" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_partner_institution_id_institutions_id_fk" FOREIGN KEY ("partner_institution_id") REFERENCES "public"."institutions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_parent_share_id_shares_id_fk" FOREIGN KEY ("parent_share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_openings" ADD CONSTRAINT "share_openings_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_sessions" ADD CONSTRAINT "share_sessions_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_reads" ADD CONSTRAINT "second_reads_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_reads" ADD CONSTRAINT "second_reads_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_reads" ADD CONSTRAINT "second_reads_reader_user_id_users_id_fk" FOREIGN KEY ("reader_user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "second_reads" ADD CONSTRAINT "second_reads_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consortium_members" ADD CONSTRAINT "consortium_members_member_institution_id_institutions_id_fk" FOREIGN KEY ("member_institution_id") REFERENCES "public"."institutions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consortium_members" ADD CONSTRAINT "consortium_members_hub_institution_id_institutions_id_fk" FOREIGN KEY ("hub_institution_id") REFERENCES "public"."institutions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "shares_secret_sha256_key" ON "shares" USING btree ("secret_sha256");--> statement-breakpoint
CREATE INDEX "shares_study_idx" ON "shares" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "shares_partner_idx" ON "shares" USING btree ("partner_institution_id","expires_at");--> statement-breakpoint
CREATE INDEX "shares_parent_idx" ON "shares" USING btree ("parent_share_id");--> statement-breakpoint
CREATE UNIQUE INDEX "shares_consortium_offer_key" ON "shares" USING btree ("study_id") WHERE offered_by_consortium;--> statement-breakpoint
CREATE INDEX "share_openings_share_idx" ON "share_openings" USING btree ("share_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "share_sessions_sha256_key" ON "share_sessions" USING btree ("session_sha256");--> statement-breakpoint
CREATE INDEX "share_sessions_share_idx" ON "share_sessions" USING btree ("share_id");--> statement-breakpoint
CREATE INDEX "second_reads_study_idx" ON "second_reads" USING btree ("study_id","created_at");