-- Identity (domain.md 5.8): a report without a permanent UPN is compared with the people of its LA born the
-- same day at the same postcode or with the same family name, whose near-identical names make a review
-- item. The family-name arm uses young_people_dob_family_given (003, led by dob, family_norm); this is the
-- postcode arm's.
create index young_people_dob_postcode on young_people (dob, postcode);
