-- The groups the programme puts first, as a respondent declares them in their profile,
-- after the age band. Each answer is optional: NULL until asked (or when skipped), and
-- 'undisclosed' for "prefer not to say". "Elderly" needs no column: it is the 65+ band.
--   children               children under 18 in the family: yes | no | undisclosed
--   disability             the respondent, or someone they care for, has a disability:
--                          yes | no | undisclosed. Health data (a special category of
--                          personal data): asked only after its own consent, whose time is
--                          disability_consent_at; NULL both when consent was declined.
--   settlement             where they live: city | town | village | undisclosed
ALTER TABLE respondents ADD COLUMN children TEXT
    CHECK (children IN ('yes', 'no', 'undisclosed'));
ALTER TABLE respondents ADD COLUMN disability TEXT
    CHECK (disability IN ('yes', 'no', 'undisclosed'));
ALTER TABLE respondents ADD COLUMN disability_consent_at TEXT;
ALTER TABLE respondents ADD COLUMN settlement TEXT
    CHECK (settlement IN ('city', 'town', 'village', 'undisclosed'));

-- Copied into a response when it starts, like the region and the age band: a later change
-- of the profile applies to waves answered afterwards and never moves given answers.
ALTER TABLE responses ADD COLUMN children TEXT
    CHECK (children IN ('yes', 'no', 'undisclosed'));
ALTER TABLE responses ADD COLUMN disability TEXT
    CHECK (disability IN ('yes', 'no', 'undisclosed'));
ALTER TABLE responses ADD COLUMN settlement TEXT
    CHECK (settlement IN ('city', 'town', 'village', 'undisclosed'));

-- A wave aimed at groups: comma-separated segment ids (families_with_children, elderly,
-- disability, village), any of which makes a respondent targeted; NULL for everyone.
ALTER TABLE waves ADD COLUMN segments TEXT;
