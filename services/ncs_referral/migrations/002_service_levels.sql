alter table referrals add column claimed_at timestamptz;
alter table referrals add column failed_contacts integer not null default 0;
create index referrals_working on referrals (claimed_at) where status in ('claimed', 'in_contact');
