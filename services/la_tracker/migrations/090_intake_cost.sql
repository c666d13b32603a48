-- What every new young person costs to write (docs/performance.md, session 5). Each index of
-- young_people is written for each of the ~100,000 reports of a summer burst; these three are read by
-- no query: match_key is no longer a reason to merge (rule 5.8), (dob, family_norm) is the leading
-- part of young_people_dob_family_given (003), which serves the same look-ups, and (dob, given_norm,
-- postcode) was the old weak rule's.
drop index if exists young_people_match;
drop index if exists young_people_dob_family;
drop index if exists young_people_dob_given_postcode;

-- The history rows are written by young_people's own triggers, for a row that exists, so their foreign
-- keys checked nothing that could fail, but each checked row cost a lookup and a row lock (two per new
-- young person). Erasure deletes the history explicitly (store.erase_people), as the cascade did.
alter table activity_history drop constraint if exists activity_history_person_key_fkey;
alter table la_history drop constraint if exists la_history_person_key_fkey;
