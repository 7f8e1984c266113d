CREATE TYPE "public"."label_target" AS ENUM('study', 'nodule');--> statement-breakpoint
CREATE TYPE "public"."vocabulary_kind" AS ENUM('category', 'number');--> statement-breakpoint
CREATE TYPE "public"."label_evidence" AS ENUM('pathology', 'follow-up', 'lung-rads', 'imaging', 'clinical');--> statement-breakpoint
CREATE TYPE "public"."label_source" AS ENUM('model', 'reader', 'consensus');--> statement-breakpoint
CREATE TYPE "public"."snapshot_status" AS ENUM('freezing', 'frozen', 'failed');--> statement-breakpoint
CREATE TABLE "research_projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "label_vocabularies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"target" "label_target" NOT NULL,
	"kind" "vocabulary_kind" NOT NULL,
	"codes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"unit" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "labels" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"vocabulary_id" uuid NOT NULL,
	"study_id" uuid NOT NULL,
	"nodule_id" uuid,
	"value_code" text,
	"value_number" double precision,
	"source" "label_source" NOT NULL,
	"source_model" text,
	"source_user_id" uuid,
	"evidence" "label_evidence" NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cohorts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"definition" jsonb NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cohort_snapshot_members" (
	"snapshot_id" uuid NOT NULL,
	"study_id" uuid NOT NULL,
	"series_id" uuid NOT NULL,
	"volume_sha256" text NOT NULL,
	CONSTRAINT "cohort_snapshot_members_snapshot_id_study_id_pk" PRIMARY KEY("snapshot_id","study_id")
);
--> statement-breakpoint
CREATE TABLE "cohort_snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"cohort_id" uuid NOT NULL,
	"definition" jsonb NOT NULL,
	"status" "snapshot_status" DEFAULT 'freezing' NOT NULL,
	"data_blob_key" text,
	"manifest_blob_key" text,
	"manifest_sha256" text,
	"study_count" integer,
	"nodule_count" integer,
	"file_count" integer,
	"total_bytes" bigint,
	"error" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"frozen_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "label_vocabularies" ADD CONSTRAINT "label_vocabularies_project_id_research_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."research_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_vocabulary_id_label_vocabularies_id_fk" FOREIGN KEY ("vocabulary_id") REFERENCES "public"."label_vocabularies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_nodule_id_reviewed_nodules_id_fk" FOREIGN KEY ("nodule_id") REFERENCES "public"."reviewed_nodules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_source_user_id_users_id_fk" FOREIGN KEY ("source_user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohorts" ADD CONSTRAINT "cohorts_project_id_research_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."research_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohorts" ADD CONSTRAINT "cohorts_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohort_snapshot_members" ADD CONSTRAINT "cohort_snapshot_members_snapshot_id_cohort_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."cohort_snapshots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohort_snapshot_members" ADD CONSTRAINT "cohort_snapshot_members_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohort_snapshot_members" ADD CONSTRAINT "cohort_snapshot_members_series_id_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "public"."series"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohort_snapshots" ADD CONSTRAINT "cohort_snapshots_cohort_id_cohorts_id_fk" FOREIGN KEY ("cohort_id") REFERENCES "public"."cohorts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cohort_snapshots" ADD CONSTRAINT "cohort_snapshots_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "research_projects_name_key" ON "research_projects" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "label_vocabularies_project_name_key" ON "label_vocabularies" USING btree ("project_id","name");--> statement-breakpoint
CREATE INDEX "labels_study_idx" ON "labels" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "labels_vocabulary_idx" ON "labels" USING btree ("vocabulary_id","value_code");--> statement-breakpoint
CREATE UNIQUE INDEX "cohorts_project_name_key" ON "cohorts" USING btree ("project_id","name");--> statement-breakpoint
CREATE FUNCTION "cohort_snapshots_frozen_is_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cohort snapshot % is frozen and cannot change', OLD.id USING ERRCODE = 'check_violation';
END $$;--> statement-breakpoint
CREATE TRIGGER "cohort_snapshots_frozen_immutable" BEFORE UPDATE OR DELETE ON "cohort_snapshots"
  FOR EACH ROW WHEN (OLD.status = 'frozen') EXECUTE FUNCTION "cohort_snapshots_frozen_is_immutable"();--> statement-breakpoint
CREATE FUNCTION "cohort_snapshot_members_frozen_is_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM cohort_snapshots s WHERE s.id = coalesce(OLD.snapshot_id, NEW.snapshot_id) AND s.status = 'frozen') THEN
    RAISE EXCEPTION 'the members of a frozen cohort snapshot cannot change' USING ERRCODE = 'check_violation';
  END IF;
  RETURN coalesce(NEW, OLD);
END $$;--> statement-breakpoint
CREATE TRIGGER "cohort_snapshot_members_frozen_immutable" BEFORE INSERT OR UPDATE OR DELETE ON "cohort_snapshot_members"
  FOR EACH ROW EXECUTE FUNCTION "cohort_snapshot_members_frozen_is_immutable"();
