"""What a currency code may be: one of ISO 4217's currencies, the one rule of every door.

The wire schema's `Currency` (schemas/types.py) matches exactly these codes; the CSV and
X12 parsers ask `currency_problem` of theirs, so every door says the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

#: The currencies of ISO 4217 (list one, as amended to 2025: XCG added; ANG and BGN, still
#: in distributors' books, kept). Left out, as no money a price is in: the fund codes (BOV,
#: CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals (XAG, XAU, XPD, XPT), SDR and
#: bond units (XDR, XSU, XUA, XBA-XBD), XTS and XXX; and the withdrawn (CUC, HRK, SLL, ZWL
#: ...). A code ISO adds is added here.
_ISO_4217_CODES: Final = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER
    ZAR ZMW ZWG
"""
ISO_4217: Final = frozenset(_ISO_4217_CODES.split())

#: ISO 4217's minor unit (list one's exponent: the places an amount is paid to) of the
#: codes above that do not pay in hundredths; every other one has 2.
_PLACES_NOT_TWO: Final = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
}
#: currency code -> the decimal places of its minor unit, for every code of `ISO_4217`
MINOR_UNITS: Final[Mapping[str, int]] = MappingProxyType(
    {code: 2 for code in ISO_4217}
    | {code: places for places, codes in _PLACES_NOT_TWO.items() for code in codes.split()}
)


def currency_problem(code: str) -> str | None:
    """Why `code` is no currency, said after it (`currency 'XYZ' is ...`); None when it is
    one of `ISO_4217`, in capitals."""
    if code in ISO_4217:
        return None
    if code.upper() in ISO_4217:
        return f"not written in capitals ({code.upper()!r})"
    return "not an ISO 4217 currency code (like USD or EUR)"
