CREATE TYPE "public"."quarantine_reason" AS ENUM('conflict', 'foreign-institution', 'unknown-caller');--> statement-breakpoint
ALTER TYPE "public"."series_status" ADD VALUE 'incomplete';--> statement-breakpoint
ALTER TYPE "public"."study_review_status" ADD VALUE 'incomplete' BEFORE 'ready';--> statement-breakpoint
CREATE TABLE "quarantined_instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"reason" "quarantine_reason" NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"series_instance_uid" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"sender_institution_id" uuid,
	"source" text NOT NULL,
	"blob_key" text NOT NULL,
	"content_digest" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "application_entities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ae_title" text NOT NULL,
	"address" text NOT NULL,
	"institution_id" uuid NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "series" ADD COLUMN "open_transfers" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "series" ADD COLUMN "transfer_interrupted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "series" ADD COLUMN "announced_instances" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "content_digest" text;--> statement-breakpoint
ALTER TABLE "quarantined_instances" ADD CONSTRAINT "quarantined_instances_sender_institution_id_institutions_id_fk" FOREIGN KEY ("sender_institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "application_entities" ADD CONSTRAINT "application_entities_institution_id_institutions_id_fk" FOREIGN KEY ("institution_id") REFERENCES "public"."institutions"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "quarantined_instances_content_key" ON "quarantined_instances" USING btree ("sop_instance_uid","content_digest");--> statement-breakpoint
CREATE INDEX "quarantined_instances_created_idx" ON "quarantined_instances" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "application_entities_ae_address_key" ON "application_entities" USING btree ("ae_title","address");