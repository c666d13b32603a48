-- Each LA's numbers for the routing policy (domain.md 5); a missing row means the national defaults.
create table la_policies (
    la                    text primary key,
    referral_delay_days   integer not null default 0 check (referral_delay_days >= 0),
    confirmation_due_days integer not null default 30 check (confirmation_due_days >= 0),
    consent_required      boolean not null default true,
    updated_at            timestamptz not null default now()
);

-- Everyone reported to the LA, with the facts routing needs and the current activity.
create table young_people (
    person_key      text primary key,
    leaver_id       uuid,
    responsible_la  text not null,
    details         jsonb not null,      -- names, DOB, address, contacts, identifiers (personal data)
    facts           jsonb not null,      -- routing inputs: year, dates, SEND, characteristics, consent
    activity_code   text,
    activity_status text,
    updated_at      timestamptz not null default now()
);

create table cases (
    case_id         uuid primary key,
    person_key      text not null references young_people,
    leaver_id       uuid,
    responsible_la  text not null,
    status          text not null,
    reason          text not null,
    priority        smallint not null,
    activity_code   text,
    referral_id     uuid,
    referral_status text,                -- null | requested | withdrawn | claimed | closed | returned_to_la
    referral_due_on date,
    due_on          date,
    opened_at       timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (person_key, responsible_la)
);
create index cases_queue on cases (responsible_la, status, priority, opened_at);

create table case_timeline (
    id        bigserial primary key,
    case_id   uuid not null references cases,
    at        timestamptz not null default now(),
    kind      text not null,
    actor     text not null,
    detail    jsonb not null default '{}'
);
create index case_timeline_case on case_timeline (case_id, id);
