-- Only the handoff fields are stored (UK GDPR data minimisation): no UPN, ULN, full address or school.
create table referrals (
    referral_id     uuid primary key,
    case_id         uuid not null,
    person_key      text not null,
    responsible_la  text not null,
    ncs_area        text not null,
    status          text not null default 'new',
    reason          text not null,
    priority        smallint not null,
    handoff         jsonb not null,   -- given/family name, DOB, email, phone, postcode district, SEND flags
    consent         jsonb not null,   -- share_with_ncs, source, recorded_at
    claimed_by      text,
    status_reason   text,
    outcome_code    text,
    received_at     timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index referrals_queue on referrals (ncs_area, status, priority, received_at);
create index referrals_person on referrals (person_key);

create table referral_timeline (
    id          bigserial primary key,
    referral_id uuid not null references referrals,
    at          timestamptz not null default now(),
    kind        text not null,
    actor       text not null,
    detail      jsonb not null default '{}'
);
create index referral_timeline_referral on referral_timeline (referral_id, id);
