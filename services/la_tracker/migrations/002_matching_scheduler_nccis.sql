-- Matching one person across reports (domain.md 5.8).
alter table young_people add column upn text;
alter table young_people add column uln text;
alter table young_people add column match_key text;          -- normalised family name | DOB | postcode
alter table young_people add column family_norm text;
alter table young_people add column given_norm text;
alter table young_people add column dob date;
alter table young_people add column postcode text;
alter table young_people add column merged_into text references young_people;
alter table young_people add column ypid bigint generated always as identity (start with 1000000000000);
alter table young_people add column la_source text not null default 'postcode';  -- postcode | school
alter table young_people add column activity_start date;
alter table young_people add column activity_ascertained date;
alter table young_people add column activity_review date;
create index young_people_uln on young_people (uln) where uln is not null;
create index young_people_match on young_people (match_key);
create index young_people_dob_family on young_people (dob, family_norm);
create index young_people_dob_given_postcode on young_people (dob, given_norm, postcode);
create index young_people_la on young_people (responsible_la);

-- Another report's person key (another UPN) that means this young person.
create table person_aliases (
    alias_key  text primary key,
    person_key text not null references young_people,
    matched_by text not null,                -- uln | name_dob_postcode | staff_merge
    created_at timestamptz not null default now()
);

-- Weaker matches wait for staff: never merged automatically.
create table review_queue (
    review_id     uuid primary key,
    person_key    text not null references young_people,
    candidate_key text not null references young_people,
    reason        text not null,
    status        text not null default 'open',   -- open | merged | kept_apart
    decided_by    text,
    created_at    timestamptz not null default now(),
    decided_at    timestamptz,
    unique (person_key, candidate_key)
);

-- Postcode not found or outside England: the school's LA took the case, flagged for review.
alter table cases add column la_review text;

-- Durable time-based rules: referral delay, confirmation due date, currency lapse.
create table scheduled_jobs (
    job_id     bigserial primary key,
    kind       text not null,
    person_key text not null references young_people,
    case_id    uuid references cases,
    due_on     date not null,
    done_at    timestamptz,
    outcome    text,
    unique (kind, person_key, due_on)
);
create index scheduled_jobs_due on scheduled_jobs (due_on) where done_at is null;
