-- Young people whose personal data was erased (UK GDPR Article 17), by pseudonymous key only, so
-- that an older event replayed from Kafka cannot bring the data back.
create table erased_people (
    person_key  text primary key,
    erasure_id  uuid not null,
    erased_at   timestamptz not null default now()
);

-- The retention purge deletes by age.
create index outbox_published_at on outbox (published_at) where published_at is not null;
create index processed_events_at on processed_events (processed_at);
create index audit_log_at on audit_log (at);
