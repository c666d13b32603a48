create table leavers (
    leaver_id         uuid primary key,
    person_key        text not null,
    upn               text not null,
    school_laestab    text not null,
    leaving_date      date not null,
    revision          integer not null default 1,
    content_hash      text not null,
    body              jsonb not null,
    onward_status     text not null default 'registered',
    onward_status_at  timestamptz not null default now(),
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    -- design.md: the same UPN, school and leaving date is the same leaver report
    unique (upn, school_laestab, leaving_date)
);
create index leavers_school on leavers (school_laestab);
create index leavers_person on leavers (person_key);

-- What the school sees happened next (from LA and NCS events), newest last.
create table leaver_timeline (
    id         bigserial primary key,
    leaver_id  uuid not null references leavers,
    at         timestamptz not null default now(),
    kind       text not null,
    detail     jsonb not null default '{}'
);
create index leaver_timeline_leaver on leaver_timeline (leaver_id, id);
