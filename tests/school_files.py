"""Leaver files laid out as schools' MIS export them, for the import tests, the page tests and the bench.

`ctf()` writes a Common Transfer File as SIMS, Arbor and Bromcom do (CTF 20+ layout: Header with
SourceSchool and DestSchool; per pupil BasicDetails, LookedAfter, SENhistory, Address/BS7666Address,
SchoolHistory with the primary school first), starting with a UTF-8 byte-order mark, with elements the
import does not read (FSMhistory, Attendance, Contacts, StageAssessments). `csv_file()` writes the CSV
with lower-case headers, DD/MM/YYYY dates and the optional columns.
"""
from __future__ import annotations

import csv
import io
from xml.sax.saxutils import escape

BOM = b"\xef\xbb\xbf"


def _sen(entries: list[tuple[str, str]]) -> str:
    return "".join(f"<SEN><StartDate>{d}</StartDate><SENprovision>{p}</SENprovision></SEN>" for d, p in entries)


def pupil_xml(p: dict, laestab: str = "8314001") -> str:
    """One Pupil. `p` holds a leaver body (tests/e2e/leavers.py) plus optional `sen` [(start, code)],
    `in_care` ('1', 'true', 'false'), `gender`, `ethnicity`, `primary_leaving` (the first school's date)."""
    e = {k: escape(str(v)) for k, v in p.items() if isinstance(v, (str, int))}
    return f"""
    <Pupil>
      <UPN>{e['upn']}</UPN>
      <UniqueLearnerNumber>{e.get('uln', '')}</UniqueLearnerNumber>
      <UCI>Z831400112345</UCI>
      <Surname>{e['family_name']}</Surname>
      <Forename>{e['given_name']}</Forename>
      <DOB>{e['date_of_birth']}</DOB>
      <Gender>{e.get('gender', 'F')}</Gender>
      <BasicDetails>
        <PreferredSurname>{e['family_name']}</PreferredSurname>
        <NCyearActual>{e.get('nc_year', 13)}</NCyearActual>
        <Ethnicity>{e.get('ethnicity', 'WBRI')}</Ethnicity>
        <EthnicitySource>P</EthnicitySource>
        <Languages><Type><TypeID>F</TypeID><Language>ENG</Language></Type></Languages>
        <MedicalFlag>false</MedicalFlag>
        <Disabilities><Disability>NONE</Disability></Disabilities>
        <EnrolStatus>C</EnrolStatus>
      </BasicDetails>
      <FSMhistory><FSMreviewDate>2025-09-01</FSMreviewDate></FSMhistory>
      <LookedAfter><InCare>{p.get('in_care', 'false')}</InCare><CareAuthority>831</CareAuthority></LookedAfter>
      <SENhistory>
        <SENneeds><SENneed><SENtypeRank>1</SENtypeRank><SENtype>SPLD</SENtype></SENneed></SENneeds>
        {_sen(p.get('sen', [('2019-09-01', 'N')]))}
      </SENhistory>
      <Address>
        <BS7666Address><SAON>Flat 2</SAON><PAON>14</PAON><Street>Friar Gate</Street><Locality>Friar Gate</Locality>
          <Town>Derby</Town><AdministrativeArea>Derbyshire</AdministrativeArea><PostTown>DERBY</PostTown>
          <UniquePropertyReferenceNumber>100030330000</UniquePropertyReferenceNumber></BS7666Address>
        <PostCode>{e['home_postcode']}</PostCode>
        <Zip/><Country>GBR</Country>
      </Address>
      <Phones><Phone><TelephoneType>H</TelephoneType><PhoneNo>01332 000000</PhoneNo></Phone></Phones>
      <Contacts><Contact><Order>1</Order><Surname>Parent</Surname><Forename>A</Forename></Contact></Contacts>
      <Attendance><YearData><Year>2026</Year><SessionsPossible>300</SessionsPossible></YearData></Attendance>
      <StageAssessments><KeyStage><Stage>KS4</Stage></KeyStage></StageAssessments>
      <SchoolHistory>
        <School><LEA>831</LEA><Estab>2001</Estab><SchoolName>Example Primary School</SchoolName>
          <EntryDate>2012-09-01</EntryDate><LeavingDate>{p.get('primary_leaving', '2019-07-19')}</LeavingDate>
          <LeavingReason>ENDPRI</LeavingReason></School>
        <School><LEA>{laestab[:3]}</LEA><Estab>{laestab[3:]}</Estab><SchoolName>Example Academy</SchoolName>
          <EntryDate>2019-09-04</EntryDate><LeavingDate>{e['leaving_date']}</LeavingDate></School>
      </SchoolHistory>
    </Pupil>"""


def ctf(pupils: list[dict], laestab: str = "8314001", *, bom: bool = True) -> bytes:
    """A whole CTF from `laestab` to an unknown destination (LEA MMM, Estab MMMM)."""
    body = "".join(pupil_xml(p, laestab) for p in pupils)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFversion>22.0</CTFversion>
    <DateTime>2026-07-20T10:15:00</DateTime>
    <DocumentQualifier>full</DocumentQualifier>
    <SupplierID>SIMS</SupplierID>
    <SourceSchool><LEA>{laestab[:3]}</LEA><Estab>{laestab[3:]}</Estab><URN>999001</URN>
      <SchoolName>Example Academy</SchoolName><AcademicYear>2025</AcademicYear></SourceSchool>
    <DestSchool><LEA>MMM</LEA><Estab>MMMM</Estab></DestSchool>
  </Header>
  <CTFpupilData>{body}
  </CTFpupilData>
</CTfile>
"""
    return (BOM if bom else b"") + xml.encode()


CSV_HEAD = ("upn,uln,forename,surname,dob,postcode,leavingdate,ncyear,destinationcode,destinationstatus,consentncs,"
            "addressline1,town,gender,ethnicity,ehcplan,sensupport,lookedafter")


def _uk(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def csv_row(p: dict) -> str:
    """A CSV line of a leaver body; dates written DD/MM/YYYY as spreadsheets do."""
    dest = p.get("destination") or {}
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([
        p["upn"], p.get("uln") or "", p["given_name"], p["family_name"], _uk(p["date_of_birth"]), p["home_postcode"],
        _uk(p["leaving_date"]), str(p.get("nc_year", 13)), dest.get("activity_code", ""), dest.get("status", ""),
        p.get("consent_flag", "Y"), "14 Friar Gate, Flat 2", "Derby", p.get("gender", "M"), p.get("ethnicity", "ABAN"),
        p.get("ehcp", "N"), p.get("sen_support", "N"), p.get("looked_after", "N")])
    return out.getvalue()


def csv_file(pupils: list[dict], *, bom: bool = True) -> bytes:
    return (BOM if bom else b"") + (CSV_HEAD + "\r\n" + "".join(csv_row(p) + "\r\n" for p in pupils)).encode()
