import pytest

from schemas import identifiers as ids


@pytest.mark.parametrize("upn", ["H801200001001", "G80120000101A", "h801200001001"])
def test_valid_upns_pass_including_temporary_and_lower_case(upn):
    assert ids.validate_upn(upn) == upn.upper()


@pytest.mark.parametrize("upn, problem", [
    ("A801200001001", "check letter"),      # right shape, wrong check letter
    ("H80120000100", "13 characters"),      # too short
    ("H8012000010011", "13 characters"),    # too long
    ("H80120000100I", "not a UPN letter"),  # I is never used
    ("880120000100A", "13 characters"),     # first character must be a letter
])
def test_invalid_upns_are_rejected_with_the_reason(upn, problem):
    with pytest.raises(ValueError, match=problem):
        ids.validate_upn(upn)


def test_upn_check_letter_follows_the_dfe_weights():
    # 8*2 + 1*4 + 2*5 + 1*10 + 1*13 = 53; 53 mod 23 = 7 -> H
    assert ids.upn_check_letter("801200001001") == "H"


def test_valid_uln_passes_and_temporary_uln_counts_as_absent():
    assert ids.validate_uln("1234567899") == "1234567899"
    assert ids.validate_uln("9999999999") is None
    assert ids.validate_uln(None) is None
    assert ids.validate_uln("") is None


@pytest.mark.parametrize("uln", ["1234567890", "123456789", "12345678AB"])
def test_invalid_ulns_are_rejected(uln):
    with pytest.raises(ValueError):
        ids.validate_uln(uln)


def test_uln_whose_remainder_is_zero_is_never_valid():
    # weights 10..2 on 100000001: 10 + 2 = 12 -> r = 1; find a first-9 with r = 0
    first9 = next(f"{n:09d}" for n in range(100000000, 100001000) if ids.uln_check_digit(f"{n:09d}") is None)
    for last in "0123456789":
        with pytest.raises(ValueError):
            ids.validate_uln(first9 + last)


def test_laestab_and_ukprn_shapes():
    assert ids.validate_laestab("8314001") == "8314001"
    for bad in ("831400", "83140011", "831400A"):
        with pytest.raises(ValueError):
            ids.validate_laestab(bad)
    assert ids.validate_ukprn("10001234") == "10001234"
    for bad in ("20001234", "1000123", "1000123X"):
        with pytest.raises(ValueError):
            ids.validate_ukprn(bad)


@pytest.mark.parametrize("raw, normal", [("de12aa", "DE1 2AA"), (" DE1  2AA ", "DE1 2AA"), ("SW1A1AA", "SW1A 1AA"),
                                         ("m11ae", "M1 1AE"), ("CF10 1AA", "CF10 1AA")])
def test_postcodes_are_normalised_to_the_ons_form(raw, normal):
    assert ids.normalise_postcode(raw) == normal


@pytest.mark.parametrize("bad", ["DE1", "12345", "DE1 2A", "D1E 2AA A", ""])
def test_malformed_postcodes_are_rejected(bad):
    with pytest.raises(ValueError):
        ids.normalise_postcode(bad)


def test_postcode_district_is_the_outward_code():
    assert ids.postcode_district("de12aa") == "DE1"


ARABIC_INDIC_8 = "\u0668"  # a digit to str.isdigit() and to re's \d, but not an ASCII digit
FULLWIDTH_A = "\uff21"


@pytest.mark.parametrize("validate, value, what", [
    (ids.validate_upn, "H" + ARABIC_INDIC_8 + "01200001001", "UPN"),
    (ids.validate_upn, FULLWIDTH_A + "801200001001", "UPN"),
    (ids.validate_uln, "123456789" + "\u0669", "ULN"),
    (ids.validate_laestab, "831" + "\u0664" + "001", "LAESTAB"),
    (ids.validate_ukprn, "1000123" + "\u0664", "UKPRN"),
    (ids.normalise_postcode, "DE1 " + "\u0662" + "AA", "postcode"),
    (ids.normalise_postcode, "DE1\u00a02AA", "postcode"),  # a no-break space is not ASCII either
])
def test_identifiers_refuse_other_scripts_digits_and_letters(validate, value, what):
    with pytest.raises(ValueError, match=f"{what} must use ASCII"):
        validate(value)


def test_a_trailing_newline_is_not_part_of_a_valid_identifier():
    for validate, value in ((ids.validate_laestab, "8314001\n"), (ids.validate_ukprn, "10001234\n")):
        assert validate(value) == value.strip()  # stripped, as spaces are
    with pytest.raises(ValueError):
        ids.normalise_postcode("DE1 2AA\n\n")


def _upn(la: str) -> str:
    body = f"{la}200001001"
    return ids.upn_check_letter(body) + body


@pytest.mark.parametrize("la", ["831", "201", "420", "940", "942", "928", "909", "835", "836", "837", "820", "875"])
def test_upn_la_numbers_past_and_present_are_valid(la):
    assert ids.validate_upn(_upn(la)) == _upn(la)


@pytest.mark.parametrize("la", ["000", "100", "999", "832", "950"])
def test_upn_whose_characters_2_to_4_are_no_dfe_la_number_is_refused(la):
    with pytest.raises(ValueError, match="not a DfE LA number"):
        ids.validate_upn(_upn(la))


def test_uln_starting_with_zero_is_refused():
    first9 = next(f"0{n:08d}" for n in range(1, 10**8) if ids.uln_check_digit(f"0{n:08d}") not in (None, 10))
    with pytest.raises(ValueError, match="start with 0"):
        ids.validate_uln(first9 + str(ids.uln_check_digit(first9)))
