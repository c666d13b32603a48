-- The young person's own voice (issue 17): messages with a link, the answers they give, reminders.
-- No foreign keys to young_people: erasure deletes these rows first (store_you.erase).

-- Whom la_tracker is asking, and when the next message is due (the LA's reminder schedule).
create table you_outreach (
    person_key     text primary key,
    case_id        uuid not null,
    responsible_la text not null,
    started_on     date not null,
    next_due_on    date,                 -- null: no more messages (see stopped)
    messages_sent  integer not null default 0,
    answered_at    timestamptz,
    stopped        text                  -- answered | case_closed | no_contact_details | schedule_ended
);
create index you_outreach_due on you_outreach (next_due_on) where next_due_on is not null;

-- One row per link sent: the token's keyed hash only (never the token), one visit, an expiry.
create table you_links (
    link_id     uuid primary key,
    token_hash  text not null unique,
    person_key  text not null,
    case_id     uuid not null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    redeemed_at timestamptz,
    changes     integer not null default 0
);
create index you_links_person on you_links (person_key);

-- Each LA's reminder schedule; a missing row means the defaults (young_person.ReminderSchedule).
create table you_reminder_policies (
    la                  text primary key,
    first_reminder_days integer not null default 7 check (first_reminder_days between 1 and 365),
    every_days          integer not null default 30 check (every_days between 1 and 365),
    stop_after_days     integer not null default 365 check (stop_after_days between 0 and 730),
    updated_at          timestamptz not null default now()
);

-- Token look-ups per client (a keyed hash of the address), for the rate limit.
create table you_attempts (
    client text not null,
    at     timestamptz not null default now()
);
create index you_attempts_client on you_attempts (client, at);

-- What the young person said (applied from their events by the stream worker).
create table you_answers (
    id         bigserial primary key,
    event_id   uuid not null unique,
    person_key text not null,
    case_id    uuid,
    kind       text not null,            -- destination | help | withdrawal
    answer     jsonb not null,
    at         timestamptz not null default now()
);
create index you_answers_person on you_answers (person_key, id);
create index you_answers_help on you_answers (case_id) where kind = 'help';

-- The development mailbox (/dev/messages): what the development sender "sent". Never used in production.
create table dev_messages (
    id      bigserial primary key,
    to_address text not null,
    channel text not null,
    body    text not null,
    link    text not null,
    sent_at timestamptz not null default now()
);
