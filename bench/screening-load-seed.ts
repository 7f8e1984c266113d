// Seeds a screening programme's worth of review data with set-based SQL: institutions, patients, studies,
// CT series with volumes and inference runs, AI findings and the reviewed nodules and worklist rows made from
// them. Ids are md5-derived UUIDs of the row number, so the bench can address any row without a lookup.
import type postgres from 'postgres';

export interface LoadSize {
  institutions: number;
  patients: number;
  studies: number;
  findingsPerStudy: number;
}

export async function seedScreeningLoad(sql: postgres.Sql, size: LoadSize): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  const step = async (name: string, statement: string) => {
    const started = performance.now();
    await sql.unsafe(statement);
    timings[name] = Math.round(performance.now() - started);
  };
  const { institutions, patients, studies, findingsPerStudy } = size;
  await step(
    'institutions',
    `insert into institutions (id, code, name)
     select md5('i' || g)::uuid, 'BENCH-' || g, 'Bench hospital ' || g from generate_series(1, ${institutions}) g`,
  );
  await step(
    'patients',
    `insert into patients (id, institution_id, patient_id, patient_name, birth_date, sex)
     select md5('p' || g)::uuid, md5('i' || (1 + g % ${institutions}))::uuid, 'BP' || g, 'Bench^Patient' || g,
            date '1945-01-01' + (g % 9000), case when g % 2 = 0 then 'F' else 'M' end
     from generate_series(1, ${patients}) g`,
  );
  await step(
    'studies',
    `insert into studies (id, patient_id, study_instance_uid, accession_number, study_date)
     select md5('s' || g)::uuid, md5('p' || (1 + g % ${patients}))::uuid, '2.25.' || (1000000 + g),
            'A' || g, date '2020-01-01' + (g % 2000)
     from generate_series(1, ${studies}) g`,
  );
  await step(
    'series',
    `insert into series (id, study_id, series_instance_uid, modality, status, slice_thickness_mm)
     select md5('se' || g)::uuid, md5('s' || g)::uuid, '2.25.' || (9000000 + g), 'CT', 'done', 1.25
     from generate_series(1, ${studies}) g`,
  );
  await step(
    'volumes and runs',
    `insert into models (id, model_id, version, sha256, task, manifest)
       values (md5('m')::uuid, 'bench-detector', '1', 'bench', 'detector', '{}');
     insert into volumes (id, series_id, blob_key, sha256, dtype, dimensions, spacing_mm, origin_lps, direction)
     select md5('v' || g)::uuid, md5('se' || g)::uuid, 'volumes/bench/' || g || '.nii', md5('v' || g), 'int16',
            '{512,512,300}', '{0.7,0.7,1.25}', '{-180,-180,-400}', '{1,0,0,0,1,0,0,0,1}'
     from generate_series(1, ${studies}) g;
     insert into inference_runs (id, volume_id, model_id, parameters_sha256, parameters, status, finished_at)
     select md5('r' || g)::uuid, md5('v' || g)::uuid, md5('m')::uuid, 'bench', '{}', 'succeeded', now()
     from generate_series(1, ${studies}) g`,
  );
  const nodule = `
     select g, n, md5('f' || g || '-' || n)::uuid as finding_id,
            array[(g % 200) - 100.0, (n * 13 % 150) - 75.0, -200.0 + n * 10] as centre,
            3 + ((g * 7 + n * 11) % 170) / 10.0 as long_axis,
            case when (g + n) % 10 < 7 then 'solid' when (g + n) % 10 < 9 then 'ground-glass' else 'part-solid' end
              as type
     from generate_series(1, ${studies}) g, generate_series(0, ${findingsPerStudy - 1}) n`;
  await step(
    'findings',
    `insert into findings (id, inference_run_id, series_id, ordinal, centre_lps, bounding_box_ijk, long_axis_mm,
                           short_axis_mm, mean_diameter_mm, volume_mm3, mean_hu, type, solid_component_mm, score)
     select finding_id, md5('r' || g)::uuid, md5('se' || g)::uuid, n, centre, '{0,0,0,1,1,1}', long_axis,
            long_axis * 0.8, round(long_axis * 0.9, 1), 0.5236 * (long_axis * 0.9) ^ 3,
            case type when 'solid' then 30 else -550 end, type::nodule_type,
            case type when 'part-solid' then round(long_axis * 0.4, 1) end, 1 - n / 20.0
     from (${nodule}) f`,
  );
  await step(
    'reviewed nodules',
    `insert into reviewed_nodules (id, study_id, series_id, finding_id, origin, decision, centre_lps, long_axis_mm,
                                   short_axis_mm, mean_diameter_mm, volume_mm3, type, solid_component_mm)
     select md5('n' || g || '-' || n)::uuid, md5('s' || g)::uuid, md5('se' || g)::uuid, finding_id, 'ai',
            (case when g % 5 = 0 then (case when n % 3 = 0 then 'rejected' else 'accepted' end) else 'pending' end)
              ::nodule_decision,
            centre, long_axis, long_axis * 0.8, round(long_axis * 0.9, 1), 0.5236 * (long_axis * 0.9) ^ 3,
            type::nodule_type, case type when 'part-solid' then round(long_axis * 0.4, 1) end
     from (${nodule}) f`,
  );
  await step(
    'worklist',
    `insert into study_reviews (study_id, institution_id, status, ai_category, category, triage_rank, lung_rads,
                                waiting_since, study_date, version, final_category, nodule_count)
     select md5('s' || g)::uuid, md5('i' || (1 + (1 + g % ${patients}) % ${institutions}))::uuid,
            (case when g % 5 = 0 then 'signed-off' when g % 5 = 1 then 'in-review' else 'ready' end)
              ::study_review_status,
            c::lung_rads_category, c::lung_rads_category,
            case c when '4X' then 7 when '4B' then 6 when '4A' then 5 when '3' then 4 when '0' then 3
                   when '2' then 2 else 1 end,
            jsonb_build_object('version', 'v2022', 'category', c, 'rules', jsonb_build_array('bench')),
            now() - make_interval(secs => g * 37), date '2020-01-01' + (g % 2000),
            case when g % 5 = 0 then 3 when g % 5 = 1 then 1 else 0 end,
            case when g % 5 = 0 then c::lung_rads_category end,
            case when g % 5 = 0 then ${findingsPerStudy} - (${findingsPerStudy} + 2) / 3 else ${findingsPerStudy} end
     from (select g, (array['1','2','2','2','3','3','4A','4B','4X','0'])[1 + (g * 7919) % 10] as c
           from generate_series(1, ${studies}) g) s`,
  );
  await step('vacuum analyze', 'vacuum analyze');
  // Write the seeded pages out now, not while the benchmark measures.
  await step('checkpoint', 'checkpoint');
  return timings;
}
