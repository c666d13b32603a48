-- Humane "could not contact" (issue 16): the referring LA's numbers travel with each referral, a return
-- waits a day (undoable) before the LA is told, and claims carry the adviser's name.
alter table referrals add column return_after_attempts integer not null default 3;
alter table referrals add column return_after_days integer not null default 7;
alter table referrals add column returned_at timestamptz;      -- could not contact, waiting to be sent
alter table referrals add column return_sent_at timestamptz;   -- the LA was told (no undo after this)
alter table referrals add column claimed_by_name text;
create index referrals_returns_due on referrals (returned_at) where return_sent_at is null and returned_at is not null;
