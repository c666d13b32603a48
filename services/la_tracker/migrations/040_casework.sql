-- Casework (issue 16): the handoff's words, assignment, follow-up tasks, notes, returned-by-NCS flag,
-- humane could-not-contact numbers, audited policy changes, and name-part search.
alter table cases add column handoff jsonb not null default '{}';   -- what the LA learned, for the NCS
alter table cases add column assigned_to text;                     -- staff sub
alter table cases add column assigned_name text;                   -- their name at assignment
alter table cases add column last_contact_at timestamptz;
alter table cases add column returned_at timestamptz;              -- NCS could not contact: flagged, sorted first
alter table cases add column ncs_outcome_code text;                -- the NCS's code (820) kept beside the LA's activity

alter table la_policies add column contact_attempts integer not null default 3 check (contact_attempts between 1 and 10);
alter table la_policies add column contact_min_days integer not null default 7 check (contact_min_days between 0 and 90);

-- Every change of an LA's routing policy, with the values before and after.
create table policy_changes (
    id          bigserial primary key,
    la          text not null,
    changed_by  text not null,
    changed_by_name text,
    before      jsonb not null,
    after       jsonb not null,
    at          timestamptz not null default now()
);

-- Staff seen signing in or acting, so a case can be assigned to a named worker of the LA.
create table staff_members (
    sub       text primary key,
    la        text not null,
    name      text not null,
    seen_at   timestamptz not null default now()
);
create index staff_members_la on staff_members (la, name);

-- Follow-up tasks with due dates ("Due today").
create table case_tasks (
    task_id     uuid primary key,
    case_id     uuid not null references cases,
    due_on      date not null,
    description text not null,
    assigned_to text,
    created_by  text not null,
    created_at  timestamptz not null default now(),
    done_at     timestamptz,
    done_by     text
);
create index case_tasks_due on case_tasks (due_on) where done_at is null;
create index case_tasks_case on case_tasks (case_id);

create index cases_assigned on cases (responsible_la, assigned_to) where assigned_to is not null;
create index cases_open_worklist on cases (responsible_la, (returned_at is not null) desc, priority, opened_at)
    where status not in ('closed', 'transferred');

-- Name-part search (any part of the given or family name) on big LAs.
create extension if not exists pg_trgm;
create index young_people_names_trgm on young_people using gin ((given_norm || ' ' || family_norm) gin_trgm_ops);
create index young_people_upn on young_people (upn);
