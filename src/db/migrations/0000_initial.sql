CREATE TYPE "public"."user_role" AS ENUM('admin', 'radiologist', 'programme', 'researcher');--> statement-breakpoint
CREATE TYPE "public"."series_status" AS ENUM('receiving', 'reconstructing', 'detecting', 'done', 'failed', 'rejected');--> statement-breakpoint
CREATE TYPE "public"."inference_run_status" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."nodule_type" AS ENUM('solid', 'part-solid', 'ground-glass');--> statement-breakpoint
CREATE TYPE "public"."review_decision" AS ENUM('confirmed', 'rejected', 'corrected');--> statement-breakpoint
CREATE TABLE "institutions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"role" "user_role" NOT NULL,
	"institution_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patients" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"institution_id" uuid NOT NULL,
	"patient_id" text NOT NULL,
	"issuer_of_patient_id" text,
	"patient_name" text,
	"birth_date" date,
	"sex" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "studies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"study_instance_uid" text NOT NULL,
	"accession_number" text,
	"study_date" date,
	"study_time" time,
	"study_description" text,
	"referring_physician_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "series" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"study_id" uuid NOT NULL,
	"series_instance_uid" text NOT NULL,
	"modality" text NOT NULL,
	"series_number" integer,
	"series_description" text,
	"body_part_examined" text,
	"manufacturer" text,
	"manufacturer_model_name" text,
	"institution_name" text,
	"convolution_kernel" text,
	"slice_thickness_mm" double precision,
	"kvp" double precision,
	"status" "series_status" DEFAULT 'receiving' NOT NULL,
	"instance_count" integer DEFAULT 0 NOT NULL,
	"quality" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"series_id" uuid NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"sop_class_uid" text NOT NULL,
	"transfer_syntax_uid" text NOT NULL,
	"instance_number" integer,
	"image_position_patient" double precision[],
	"blob_key" text NOT NULL,
	"sha256" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"source" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"series_id" uuid NOT NULL,
	"blob_key" text NOT NULL,
	"sha256" text NOT NULL,
	"dtype" text NOT NULL,
	"dimensions" integer[] NOT NULL,
	"spacing_mm" double precision[] NOT NULL,
	"origin_lps" double precision[] NOT NULL,
	"direction" double precision[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"model_id" text NOT NULL,
	"version" text NOT NULL,
	"sha256" text NOT NULL,
	"task" text NOT NULL,
	"manifest" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inference_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"volume_id" uuid NOT NULL,
	"model_id" uuid NOT NULL,
	"parameters_sha256" text NOT NULL,
	"parameters" jsonb NOT NULL,
	"status" "inference_run_status" DEFAULT 'running' NOT NULL,
	"timings" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "findings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"inference_run_id" uuid NOT NULL,
	"series_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"centre_lps" double precision[] NOT NULL,
	"bounding_box_ijk" integer[] NOT NULL,
	"long_axis_mm" double precision NOT NULL,
	"short_axis_mm" double precision NOT NULL,
	"mean_diameter_mm" double precision NOT NULL,
	"volume_mm3" double precision NOT NULL,
	"mean_hu" double precision NOT NULL,
	"type" "nodule_type" NOT NULL,
	"solid_component_mm" double precision,
	"score" double precision NOT NULL,
	"mask_blob_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"finding_id" uuid NOT NULL,
	"reviewer_id" uuid NOT NULL,
	"decision" "review_decision" NOT NULL,
	"correction" jsonb,
	"comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_user_id" uuid,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"request_id" text,
	"dedupe_key" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "series" ADD CONSTRAINT "series_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inference_runs" ADD CONSTRAINT "inference_runs_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inference_runs" ADD CONSTRAINT "inference_runs_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_inference_run_id_inference_runs_id_fk" FOREIGN KEY ("inference_run_id") REFERENCES "public"."inference_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "findings" ADD CONSTRAINT "findings_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_finding_id_findings_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."findings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_reviewer_id_users_id_fk" FOREIGN KEY ("reviewer_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "institutions_code_key" ON "institutions" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "patients_institution_patient_key" ON "patients" USING btree ("institution_id","patient_id");--> statement-breakpoint
CREATE INDEX "patients_patient_id_idx" ON "patients" USING btree ("patient_id");--> statement-breakpoint
CREATE UNIQUE INDEX "studies_study_instance_uid_key" ON "studies" USING btree ("study_instance_uid");--> statement-breakpoint
CREATE INDEX "studies_patient_date_idx" ON "studies" USING btree ("patient_id","study_date");--> statement-breakpoint
CREATE UNIQUE INDEX "series_series_instance_uid_key" ON "series" USING btree ("series_instance_uid");--> statement-breakpoint
CREATE INDEX "series_study_idx" ON "series" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "series_status_idx" ON "series" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "instances_sop_instance_uid_key" ON "instances" USING btree ("sop_instance_uid");--> statement-breakpoint
CREATE INDEX "instances_series_idx" ON "instances" USING btree ("series_id");--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_series_sha256_key" ON "volumes" USING btree ("series_id","sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "models_model_version_key" ON "models" USING btree ("model_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "inference_runs_natural_key" ON "inference_runs" USING btree ("volume_id","model_id","parameters_sha256");--> statement-breakpoint
CREATE UNIQUE INDEX "findings_run_ordinal_key" ON "findings" USING btree ("inference_run_id","ordinal");--> statement-breakpoint
CREATE INDEX "findings_series_idx" ON "findings" USING btree ("series_id");--> statement-breakpoint
CREATE INDEX "reviews_finding_idx" ON "reviews" USING btree ("finding_id");--> statement-breakpoint
CREATE INDEX "audit_events_resource_idx" ON "audit_events" USING btree ("resource_type","resource_id");--> statement-breakpoint
CREATE INDEX "audit_events_occurred_at_idx" ON "audit_events" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_events_dedupe_key" ON "audit_events" USING btree ("dedupe_key");