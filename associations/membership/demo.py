"""Reproducible demo members for ``manage.py seed_demo``: tariffs, collèges, bank details, members
(persons and structures), two periods of memberships and their payments.

Everything is drawn from ``random.Random(SEED)`` so two fresh databases get the same data. Rows are
written with ``bulk_create`` (600 members in well under a second) with the values the services would
have computed: ``amount_paid``, ``paid_on``, attestation numbers ``<association id>-<year>-<00001>``;
``Member.status`` is then derived by ``services.refresh_all_statuses``. No attestation PDF is generated and
no e-mail is sent (attestations are produced on demand). One ``member.import`` audit row per
association records what was written.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from associations import audit
from associations.membership.services import Period, current_period, previous_period, refresh_all_statuses
from associations.models import (
    ApplicationStatus,
    Association,
    Civility,
    College,
    Member,
    MemberKind,
    Membership,
    MembershipStatus,
    MemberStatus,
    Payment,
    PaymentMethod,
    PracticeMode,
    Profession,
    StructureType,
    Tariff,
    TariffCategory,
    User,
)
from associations.models.membership import ZERO
from associations.validators import luhn_ok

SEED = 2026
EMAIL_DOMAIN = "exemple-sante.fr"

FIRST_NAMES_F = [
    "Marie", "Camille", "Léa", "Chloé", "Manon", "Émilie", "Julie", "Sophie", "Claire", "Céline", "Aurélie",
    "Hélène", "Isabelle", "Nathalie", "Sandrine", "Valérie", "Anne", "Élise", "Laure", "Agathe", "Inès",
    "Océane", "Margaux", "Pauline", "Mathilde", "Charlotte", "Lucie", "Amélie", "Noémie", "Clémence", "Gaëlle",
    "Maëlle", "Solène", "Anaïs", "Béatrice", "Françoise", "Véronique", "Stéphanie", "Juliette", "Zoé",
]
FIRST_NAMES_M = [
    "Thomas", "Nicolas", "Julien", "Maxime", "Antoine", "Alexandre", "Pierre", "Guillaume", "Mathieu",
    "Sébastien", "François", "Jérôme", "Stéphane", "Frédéric", "Olivier", "Laurent", "Philippe", "Éric",
    "Christophe", "Benoît", "Hugo", "Louis", "Théo", "Raphaël", "Gaël", "Loïc", "Yannick", "Cédric", "Hervé",
    "Rémi", "Joël", "Noël", "Jean-Baptiste", "Jean-Marc", "Paul", "Arnaud", "Romain", "Quentin", "Baptiste",
    "Mickaël",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèbvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
    "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
    "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin",
    "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
    "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
    "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez",
    "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud",
    "Lemoine", "Picard", "Gaillard", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert",
    "Charles", "Guillot", "Rivière", "Le Gall", "Adam", "Rey", "Moulin", "Berger", "Lecomte", "Ménard",
    "Fleury", "Deschamps", "Carpentier", "Benoît", "Maillard", "Marchal", "Aubry", "Vasseur", "Le Roux",
    "Renault", "Jacquet", "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy",
    "Pons", "Carré", "Breton", "Rémy", "Schneider", "Pelletier", "Chauvin", "Besnard", "Boutet", "Thébault",
    "Pichon", "Gaudin", "Tessier", "Hamon", "Bodin", "Delaunay", "Chéreau", "Lebœuf", "Hérault", "D'Almeida",
    "Bénard", "Cœur", "Desbois", "Lévêque",
]
STREETS = [
    "rue Nationale", "avenue de Grammont", "boulevard Béranger", "rue Colbert", "rue de la République",
    "avenue du Général de Gaulle", "rue Victor Hugo", "rue Jules Ferry", "place de la Mairie", "rue des Écoles",
    "rue de la Gare", "allée des Tilleuls", "rue du Commerce", "avenue de la Tranchée", "rue Émile Zola",
    "chemin des Vignes", "rue Pasteur", "place du Marché", "rue de l'Église", "impasse des Lilas",
]
SPECIALTIES = [
    "Pédiatrie", "Cardiologie", "Psychiatrie", "Gynécologie médicale", "Dermatologie", "Ophtalmologie",
    "Gériatrie", "Endocrinologie", "Pneumologie", "Médecine physique et de réadaptation",
]

# Share of members per profession (percent). DOMAIN.md §4: médecins généralistes 36 %, infirmiers 15 %,
# pharmaciens 13 %, kinés 7 %; the remaining 29 % spread over the other professions.
PROFESSION_SHARES: list[tuple[str, float]] = [
    ("medecin-generaliste", 36), ("infirmier", 15), ("pharmacien", 13), ("masseur-kinesitherapeute", 7),
    ("medecin-specialiste", 4), ("chirurgien-dentiste", 4), ("sage-femme", 3), ("orthophoniste", 3),
    ("psychologue", 3), ("pedicure-podologue", 2), ("dieteticien", 2), ("ergotherapeute", 1.5),
    ("psychomotricien", 1.5), ("orthoptiste", 1), ("opticien", 1), ("technicien-laboratoire", 1),
    ("audioprothesiste", 0.5), ("manipulateur-erm", 0.5), ("autre", 1),
]
FEMALE_SHARE = {
    "medecin-generaliste": 0.5, "medecin-specialiste": 0.5, "infirmier": 0.86, "pharmacien": 0.68,
    "masseur-kinesitherapeute": 0.5, "chirurgien-dentiste": 0.48, "sage-femme": 0.97, "orthophoniste": 0.96,
    "psychologue": 0.85, "psychomotricien": 0.88, "dieteticien": 0.9, "ergotherapeute": 0.85,
    "orthoptiste": 0.9,
}
DOCTOR_TITLE = {"medecin-generaliste", "medecin-specialiste", "chirurgien-dentiste"}
MOSTLY_SALARIED = {"technicien-laboratoire", "manipulateur-erm", "psychomotricien", "ergotherapeute"}
ADELI_PROFESSIONS = {"psychologue": "93"}  # ADELI: département + profession code + 5 digits

PAYMENT_METHODS = [(PaymentMethod.TRANSFER, 50), (PaymentMethod.CHEQUE, 42), (PaymentMethod.CASH, 5),
                   (PaymentMethod.DIRECT_DEBIT, 3)]


@dataclass(frozen=True)
class Commune:
    name: str
    postal_code: str
    insee: str
    weight: int


@dataclass(frozen=True)
class Profile:
    """What one demo association looks like."""

    members: int
    tariffs: dict[str, Decimal]
    colleges: list[str]
    # Which collège each kind of member joins: liberal, salaried, coordinated, partner, users.
    college_for: dict[str, str]
    bank: tuple[str, str, str]  # code banque, code guichet, numéro de compte
    bic: str
    cheque_payee: str
    communes: list[Commune]
    structures: list[tuple[str, str]]  # (StructureType, name)
    department: str
    landline_prefix: str
    ps_account: bool = False


VAL_DE_LOIRE_SUD = Profile(
    members=600,
    tariffs={TariffCategory.PERSON: Decimal("30.00"), TariffCategory.STRUCTURE: Decimal("100.00"),
             TariffCategory.STUDENT: Decimal("0.00")},
    colleges=["PS libéraux", "Structures d'exercice coordonné", "Établissements et partenaires", "Usagers"],
    college_for={"liberal": "PS libéraux", "salaried": "Établissements et partenaires",
                 "coordinated": "Structures d'exercice coordonné", "partner": "Établissements et partenaires",
                 "users": "Usagers"},
    bank=("99999", "37000", "00012345678"),
    bic="DEMOFRP0TRS",
    cheque_payee="CPTS Val de Loire Sud",
    communes=[
        Commune("Tours", "37000", "37261", 40), Commune("Joué-lès-Tours", "37300", "37122", 14),
        Commune("Chambray-lès-Tours", "37170", "37050", 9), Commune("Saint-Avertin", "37550", "37208", 8),
        Commune("Saint-Cyr-sur-Loire", "37540", "37214", 8), Commune("La Riche", "37520", "37195", 5),
        Commune("Saint-Pierre-des-Corps", "37700", "37233", 6), Commune("Ballan-Miré", "37510", "37018", 5),
        Commune("Montbazon", "37250", "37154", 5),
    ],
    structures=[
        (StructureType.MSP, "MSP des Deux Lions"), (StructureType.MSP, "Maison de santé de Joué-lès-Tours"),
        (StructureType.MSP, "MSP du Val de l'Indre"),
        (StructureType.CDS, "Centre de santé municipal de Saint-Pierre-des-Corps"),
        (StructureType.EHPAD, "EHPAD Les Tilleuls"), (StructureType.HOSPITAL, "Clinique des Bords de Loire"),
        (StructureType.SSIAD, "SSIAD du Sud Tourangeau"),
        (StructureType.USERS, "Association des usagers de la santé du Sud Tourangeau"),
        (StructureType.COLLECTIVITY, "CCAS de Chambray-lès-Tours"),
        (StructureType.OTHER, "Maison sport-santé de Tours"),
    ],
    department="37",
    landline_prefix="02 47",
    ps_account=True,
)

PLATEAU_DES_SOURCES = Profile(
    members=40,
    tariffs={TariffCategory.PERSON: Decimal("20.00"), TariffCategory.STRUCTURE: Decimal("60.00"),
             TariffCategory.STUDENT: Decimal("0.00")},
    colleges=["Professionnels de santé", "Structures et partenaires"],
    college_for={"liberal": "Professionnels de santé", "salaried": "Professionnels de santé",
                 "coordinated": "Structures et partenaires", "partner": "Structures et partenaires",
                 "users": "Structures et partenaires"},
    bank=("99999", "15100", "00087654321"),
    bic="DEMOFRP0SFL",
    cheque_payee="CPTS du Plateau des Sources",
    communes=[
        Commune("Saint-Flour", "15100", "15187", 50), Commune("Neuvéglise-sur-Truyère", "15260", "15141", 12),
        Commune("Ruynes-en-Margeride", "15320", "15168", 10), Commune("Pierrefort", "15230", "15152", 10),
        Commune("Chaudes-Aigues", "15110", "15045", 10), Commune("Massiac", "15500", "15119", 8),
    ],
    structures=[
        (StructureType.MSP, "MSP de la Planèze"), (StructureType.EHPAD, "EHPAD Le Bon Accueil"),
        (StructureType.COLLECTIVITY, "Communauté de communes Saint-Flour Communauté"),
    ],
    department="15",
    landline_prefix="04 71",
)

PROFILES = {"val-de-loire-sud": VAL_DE_LOIRE_SUD, "plateau-des-sources": PLATEAU_DES_SOURCES}


# --- Identifiers ---------------------------------------------------------------------------------


def luhn_digit(partial: str) -> str:
    """The check digit that makes ``partial + digit`` pass the Luhn test."""
    for digit in "0123456789":
        if luhn_ok(partial + digit):
            return digit
    raise AssertionError("unreachable")


def _iban_number(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text))


def french_iban(bank: str, branch: str, account: str) -> str:
    """A French IBAN with a correct RIB key and IBAN check digits (a valid RIB always gives FR76)."""
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    check = 98 - _iban_number(bban + "FR00") % 97
    return f"FR{check:02d}{bban}"


def iban_ok(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters → numbers, mod 97 == 1."""
    iban = iban.replace(" ", "").upper()
    return len(iban) >= 15 and iban.isalnum() and _iban_number(iban[4:] + iban[:4]) % 97 == 1


def ascii_slug(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char if char.isalnum() else "-" for char in text.lower()).strip("-").replace("--", "-")


# --- Generation ---------------------------------------------------------------------------------


def _quotas(shares: Sequence[tuple[str, float]], total: int) -> list[str]:
    """``total`` codes in the given proportions (largest remainder rounding)."""
    weight = sum(share for _code, share in shares)
    exact = [(code, total * share / weight) for code, share in shares]
    counts = {code: int(value) for code, value in exact}
    missing = total - sum(counts.values())
    for code, _value in sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)[:missing]:
        counts[code] += 1
    return [code for code, _share in shares for _ in range(counts[code])]


@dataclass
class _Plan:
    """One member to create and what happens to them over the two periods."""

    member: Member
    cohort: str
    fate: str = ""  # for last-year payers: renewed / pending / due / resigned / lapsed
    memberships: list[Membership] = field(default_factory=list)


@dataclass
class SeedReport:
    members: int = 0
    memberships: int = 0
    payments: int = 0
    settings: list[str] = field(default_factory=list)
    linked_account: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.members or self.settings or self.linked_account)


class _Generator:
    def __init__(self, association: Association, profile: Profile, *, today: date, ps_user: User | None,
                 validator: User | None):
        self.association = association
        self.profile = profile
        self.today = today
        self.now = timezone.now()
        self.ps_user = ps_user
        self.validator = validator
        self.rng = random.Random(f"{SEED}-{association.slug}")
        self.professions = {p.code: p for p in Profession.objects.all()}
        self.colleges = {c.name: c for c in College.objects.filter(association=association)}
        self.tariffs = dict(Tariff.objects.filter(association=association).values_list("category", "amount"))
        self.current = current_period(association, today)
        self.previous = previous_period(association, today)
        self.used_rpps: set[str] = set(
            Member.objects.filter(association=association).exclude(rpps="").values_list("rpps", flat=True))
        self.used_emails: set[str] = set()

    # Small random helpers -----------------------------------------------------------------------

    def weighted(self, pairs):
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def mobile(self) -> str:
        return f"0{self.rng.choice('67')} " + " ".join(self.digits(2) for _ in range(4))

    def landline(self) -> str:
        return f"{self.profile.landline_prefix} " + " ".join(self.digits(2) for _ in range(3))

    def rpps(self) -> str:
        while True:
            value = "10" + self.digits(8)
            value += luhn_digit(value)
            if value not in self.used_rpps:
                self.used_rpps.add(value)
                return value

    def siret(self) -> str:
        value = self.rng.choice("3456789") + self.digits(12)
        return value + luhn_digit(value)

    def day_between(self, start: date, end: date, early: bool = True) -> date:
        """A day in [start, end]; ``early`` favours the start (cotisation campaigns open in January)."""
        if end <= start:
            return start
        fraction = self.rng.random() ** 2 if early else self.rng.random()
        return start + timedelta(days=int((end - start).days * fraction))

    def moment(self, day: date, at_most_days_later: int = 4) -> datetime:
        when = datetime.combine(day + timedelta(days=self.rng.randint(0, at_most_days_later)),
                                time(self.rng.randint(8, 18), self.rng.randint(0, 59)))
        return min(timezone.make_aware(when), self.now)

    def email_for(self, first: str, last: str) -> str:
        base = f"{ascii_slug(first)}.{ascii_slug(last)}"
        candidate, suffix = f"{base}@{EMAIL_DOMAIN}", 1
        while candidate in self.used_emails:
            suffix += 1
            candidate = f"{base}{suffix}@{EMAIL_DOMAIN}"
        self.used_emails.add(candidate)
        return candidate

    def address(self) -> tuple[str, Commune]:
        commune = self.weighted([(c, c.weight) for c in self.profile.communes])
        return f"{self.rng.randint(1, 140)} {self.rng.choice(STREETS)}", commune

    # Members ------------------------------------------------------------------------------------

    def structures(self) -> list[Member]:
        rows = []
        for structure_type, name in self.profile.structures:
            street, commune = self.address()
            health = structure_type in (StructureType.MSP, StructureType.CDS, StructureType.EHPAD,
                                        StructureType.HOSPITAL, StructureType.SSIAD)
            if structure_type in (StructureType.MSP, StructureType.CDS):
                college_key = "coordinated"
            elif structure_type == StructureType.USERS:
                college_key = "users"
            else:
                college_key = "partner"
            contact_first = self.rng.choice(FIRST_NAMES_F + FIRST_NAMES_M)
            contact_last = self.rng.choice(LAST_NAMES)
            rows.append(Member(
                association=self.association, kind=MemberKind.STRUCTURE, structure_name=name,
                structure_type=structure_type,
                finess=(self.profile.department + self.digits(7)) if health else "",
                siret=self.siret(), contact_person=f"{contact_first} {contact_last}",
                email=f"contact.{ascii_slug(name)[:40].strip('-')}@{EMAIL_DOMAIN}", phone=self.landline(),
                address=street, postal_code=commune.postal_code, city=commune.name, insee_code=commune.insee,
                college=self.colleges.get(self.profile.college_for[college_key]),
                newsletter_consent=self.rng.random() < 0.7,
            ))
        return rows

    def person(self, profession_code: str, structures: list[Member]) -> Member:
        rng = self.rng
        female = rng.random() < FEMALE_SHARE.get(profession_code, 0.6)
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        last = rng.choice(LAST_NAMES)
        if profession_code in DOCTOR_TITLE or (profession_code == "pharmacien" and rng.random() < 0.5):
            civility = Civility.DR
        else:
            civility = Civility.MME if female else Civility.M
        if profession_code in MOSTLY_SALARIED:
            mode = self.weighted([(PracticeMode.SALARIED, 70), (PracticeMode.LIBERAL, 20), (PracticeMode.MIXED, 10)])
        elif profession_code == "pharmacien":
            mode = self.weighted([(PracticeMode.LIBERAL, 85), (PracticeMode.SALARIED, 15)])
        else:
            mode = self.weighted([(PracticeMode.LIBERAL, 75), (PracticeMode.SALARIED, 14), (PracticeMode.MIXED, 11)])
        practice_structure = None
        msps = [s for s in structures if s.structure_type == StructureType.MSP]
        employers = [s for s in structures if s.structure_type in (
            StructureType.CDS, StructureType.EHPAD, StructureType.HOSPITAL, StructureType.SSIAD)]
        if mode == PracticeMode.SALARIED and employers and rng.random() < 0.6:
            practice_structure = rng.choice(employers)
        elif mode != PracticeMode.SALARIED and msps and rng.random() < 0.18:
            practice_structure = rng.choice(msps)
        street, commune = self.address()
        if practice_structure is not None:  # practises at the structure's address
            street, commune = practice_structure.address, next(
                c for c in self.profile.communes if c.insee == practice_structure.insee_code)
        adeli_code = ADELI_PROFESSIONS.get(profession_code)
        email = self.email_for(first, last)
        roll = rng.random()
        return Member(
            association=self.association, kind=MemberKind.PERSON, civility=civility, first_name=first,
            last_name=last, profession=self.professions[profession_code],
            specialty=rng.choice(SPECIALTIES) if profession_code == "medecin-specialiste" else "",
            practice_mode=mode, rpps="" if adeli_code else self.rpps(),
            adeli=f"{self.profile.department}{adeli_code}{self.digits(5)}" if adeli_code else "",
            practice_structure=practice_structure,
            email="" if roll < 0.02 else email, email_invalid=0.02 <= roll < 0.03,
            phone=self.mobile(), address=street, postal_code=commune.postal_code, city=commune.name,
            insee_code=commune.insee,
            college=self.colleges.get(self.profile.college_for[
                "salaried" if mode == PracticeMode.SALARIED else "liberal"]),
            newsletter_consent=rng.random() < 0.6,
        )

    def ps_member(self) -> Member:
        """The member record of the demo health professional account (lands in the member space)."""
        commune = self.profile.communes[0]
        user = self.ps_user
        self.used_emails.add(user.email)
        return Member(
            association=self.association, kind=MemberKind.PERSON, civility=Civility.DR,
            first_name=user.first_name or "Thomas", last_name=user.last_name or "Garnier",
            profession=self.professions["medecin-generaliste"], practice_mode=PracticeMode.LIBERAL,
            rpps=self.rpps(), email=user.email, phone=self.mobile(), address="8 rue Nationale",
            postal_code=commune.postal_code, city=commune.name, insee_code=commune.insee,
            college=self.colleges.get(self.profile.college_for["liberal"]), newsletter_consent=True, user=user,
        )

    # Cohorts and memberships -------------------------------------------------------------------

    def plan(self) -> list[_Plan]:
        rng, total = self.rng, self.profile.members
        structures = self.structures()
        person_count = total - len(structures) - (1 if self.ps_user else 0)
        codes = _quotas(PROFESSION_SHARES, person_count)
        rng.shuffle(codes)
        persons = [self.person(code, structures) for code in codes]
        # A few shared cabinet addresses: the duplicate-e-mail flag has something to show.
        with_email = [p for p in persons if p.email]
        for first, second in zip(with_email[5:30:5], with_email[6:31:5], strict=True):
            shared = f"cabinet.{ascii_slug(first.last_name)}@{EMAIL_DOMAIN}"
            first.email = second.email = shared
        applicant_count = max(1, round(total * 0.01))
        applicants = persons[:applicant_count]
        others = persons[applicant_count:] + structures
        rng.shuffle(others)

        prospect_count = max(1, round(total * 0.02))
        last_due_count = max(1, round(total * 0.03))
        last_paid_count = round(total * 0.85) - (1 if self.ps_user else 0)
        plans = [_Plan(m, "applicant") for m in applicants]
        plans += [_Plan(m, "prospect") for m in others[:prospect_count]]
        position = prospect_count
        plans += [_Plan(m, "last_due") for m in others[position:position + last_due_count]]
        position += last_due_count
        last_paid = [_Plan(m, "last_paid") for m in others[position:position + last_paid_count]]
        plans += [_Plan(m, "new") for m in others[position + last_paid_count:]]

        # What became of last year's payers this year.
        payers = len(last_paid) + (1 if self.ps_user else 0)
        fates = (["pending"] * max(1, round(payers * 0.016)) + ["due"] * round(payers * 0.12)
                 + ["resigned"] * max(1, round(payers * 0.01)))
        renewed = round(payers * 0.70) - (1 if self.ps_user else 0)
        fates += ["renewed"] * renewed
        fates += ["lapsed"] * (len(last_paid) - len(fates))
        rng.shuffle(fates)
        for plan, fate in zip(last_paid, fates, strict=True):
            plan.fate = fate
        plans += last_paid
        if self.ps_user:
            plans.insert(0, _Plan(self.ps_member(), "last_paid", "renewed"))

        # A few students / internes (free tariff): among people who renew or join this year.
        candidates = [p for p in plans if p.member.kind == MemberKind.PERSON and p.member.user_id is None
                      and (p.fate == "renewed" or p.cohort == "new")]
        for plan in rng.sample(candidates, k=min(len(candidates), max(1, round(total * 0.012)))):
            member = plan.member
            member.is_student, member.rpps, member.practice_mode, member.practice_structure = True, "", "", None
            if member.civility == Civility.DR:
                member.civility = Civility.M if member.first_name in FIRST_NAMES_M else Civility.MME
        # A few struck off among last year's unpaid memberships (DOMAIN: radiation for non-payment).
        struck = [p for p in plans if p.cohort == "last_due"][:max(0, round(total * 0.005))]
        for plan in struck:
            plan.fate = "struck_off"
        return plans

    def amount(self, member: Member) -> Decimal:
        return self.tariffs.get(member.tariff_category, ZERO)

    def membership(self, member: Member, period: Period, status: str, **extra) -> Membership:
        due = self.amount(member)
        if due == ZERO:  # what open_membership decides for a free tariff: exempt, nothing to pay
            status = MembershipStatus.EXEMPT
            extra.pop("paid_on", None)
        return Membership(
            association=self.association, member=member, period_label=period.label, start_date=period.start,
            end_date=period.end, amount_due=due, status=status,
            payment_reference="".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
            **extra,
        )

    def memberships_for(self, plan: _Plan) -> None:
        previous, current, today = self.previous, self.current, self.today
        this_year_start = current.start + timedelta(days=1) if today > current.start else current.start
        member, rng = plan.member, self.rng
        add = plan.memberships.append
        if plan.cohort == "applicant":
            # apply_for_membership: a membership for the current period, waiting for the payment.
            add(self.membership(member, current, MembershipStatus.PENDING,
                                chosen_method=self.weighted([(PaymentMethod.TRANSFER, 60), (PaymentMethod.CHEQUE, 40)]),
                                documents_accepted_at=self.moment(self.day_between(
                                    max(current.start, today - timedelta(days=20)), today, early=False), 0)))
            member.application_status = ApplicationStatus.PENDING
            return
        if plan.cohort == "prospect":
            return
        if plan.cohort in ("last_paid", "last_due"):
            day = self.day_between(previous.start + timedelta(days=2), previous.end - timedelta(days=16))
            member.joined_on = day if rng.random() < 0.3 else self.day_between(date(2020, 1, 6),
                                                                              previous.start - timedelta(days=1),
                                                                              early=False)
            if plan.cohort == "last_paid":
                add(self.membership(member, previous, MembershipStatus.PAID, paid_on=day))
            else:
                add(self.membership(member, previous, MembershipStatus.DUE))
                if plan.fate == "struck_off":
                    member.status, member.left_on = MemberStatus.STRUCK_OFF, self.day_between(this_year_start, today)
                return
        day = self.day_between(this_year_start, today)
        if plan.cohort == "new":
            member.joined_on = day
            paid = rng.random() < 0.8
            add(self.membership(member, current, MembershipStatus.PAID if paid else MembershipStatus.DUE,
                                paid_on=day if paid else None))
        elif plan.fate == "renewed":
            add(self.membership(member, current, MembershipStatus.PAID, paid_on=day))
        elif plan.fate == "pending":  # declare_renewal: transfer or cheque announced, not yet received
            add(self.membership(member, current, MembershipStatus.PENDING,
                                chosen_method=self.weighted([(PaymentMethod.TRANSFER, 60), (PaymentMethod.CHEQUE, 40)]),
                                documents_accepted_at=self.moment(self.day_between(
                                    max(this_year_start, today - timedelta(days=25)), today, early=False), 0)))
        elif plan.fate == "due":  # opened by the renewal campaign, not paid yet
            add(self.membership(member, current, MembershipStatus.DUE))
        elif plan.fate == "resigned":
            member.status, member.left_on = MemberStatus.RESIGNED, day

    def payments_for(self, membership: Membership) -> list[Payment]:
        """Validated payments matching the membership's status (amount_paid and paid_on set here)."""
        if membership.status == MembershipStatus.PAID:
            amounts, day = [membership.amount_due], membership.paid_on
        elif membership.status == MembershipStatus.DUE and membership.amount_due > Decimal("10.00") \
                and self.rng.random() < 0.04:
            amounts, day = [Decimal("10.00")], self.day_between(membership.start_date, min(self.today,
                                                                                           membership.end_date))
        else:
            return []
        rows = []
        for amount in amounts:
            method = self.weighted(PAYMENT_METHODS)
            reference = {
                PaymentMethod.TRANSFER: f"VIR {membership.payment_reference}",
                PaymentMethod.CHEQUE: f"Chèque n° {self.digits(7)}",
                PaymentMethod.DIRECT_DEBIT: f"PRLV {membership.payment_reference}",
            }.get(method, "")
            rows.append(Payment(association=self.association, membership=membership, amount=amount, paid_on=day,
                                method=method, reference=reference, validated_by=self.validator,
                                validated_at=self.moment(day)))
        membership.amount_paid = sum(amounts, ZERO)
        return rows

    def number_settled(self, memberships: list[Membership]) -> None:
        """Attestation numbers in the order memberships were settled, per year (as _assign_number)."""
        by_year: dict[int, list[Membership]] = {}
        for membership in memberships:
            if membership.is_settled:
                by_year.setdefault(membership.start_date.year, []).append(membership)
        for year, rows in by_year.items():
            prefix = f"{self.association.pk}-{year}-"
            start = Membership.objects.filter(association=self.association, number__startswith=prefix).count()
            rows.sort(key=lambda m: m.paid_on or m.start_date)  # exempt ones: opened with the period
            for sequence, membership in enumerate(rows, start=start + 1):
                membership.number = f"{prefix}{sequence:05d}"

    def run(self) -> SeedReport:
        plans = self.plan()
        for plan in plans:
            self.memberships_for(plan)
        memberships = [m for plan in plans for m in plan.memberships]
        payments = [p for m in memberships for p in self.payments_for(m)]
        self.number_settled(memberships)

        structures = [p.member for p in plans if p.member.kind == MemberKind.STRUCTURE]
        persons = [p.member for p in plans if p.member.kind == MemberKind.PERSON]
        # Parents first: bulk_create copies each saved parent's pk into the child's foreign key.
        Member.objects.bulk_create(structures)  # persons point at them (practice_structure)
        Member.objects.bulk_create(persons)
        Membership.objects.bulk_create(memberships)
        Payment.objects.bulk_create(payments)
        # Statuses by the services' own rule (resigned / struck off, set above, are kept).
        refresh_all_statuses(self.association, self.today)
        return SeedReport(members=len(plans), memberships=len(memberships), payments=len(payments))


# --- Entry point ---------------------------------------------------------------------------------


def configure(association: Association, profile: Profile) -> list[str]:
    """Tariffs, collèges and bank details, each only when missing (an operator's edits are kept)."""
    changed = []
    for category, amount in profile.tariffs.items():
        _tariff, created = Tariff.objects.get_or_create(association=association, category=category,
                                                        defaults={"amount": amount})
        if created:
            changed.append(f"tarif {category} {amount} €")
    for order, name in enumerate(profile.colleges, start=1):
        _college, created = College.objects.get_or_create(association=association, name=name,
                                                          defaults={"order": order * 10})
        if created:
            changed.append(f"collège {name}")
    fields = {"iban": french_iban(*profile.bank), "bic": profile.bic, "cheque_payee": profile.cheque_payee,
              "cheque_address": " ".join(filter(None, [association.address, association.postal_code,
                                                       association.city]))}
    missing = [name for name, value in fields.items() if value and not getattr(association, name)]
    for name in missing:
        setattr(association, name, fields[name])
        changed.append(name)
    if missing:
        association.save(update_fields=missing)
    return changed


def seed_association(association: Association, *, ps_user: User | None = None, validator: User | None = None,
                     today: date | None = None) -> SeedReport:
    """Demo membership data for one association (call inside its scope and a transaction).

    Members are generated only when the association has none, so a second run writes nothing.
    """
    profile = PROFILES[association.slug]
    today = today or timezone.localdate()
    ps_user = ps_user if profile.ps_account else None
    settings_changed = configure(association, profile)
    if Member.objects.filter(association=association).exists():
        report = SeedReport()
        if ps_user is not None and not Member.objects.filter(association=association, user=ps_user).exists():
            member = Member.objects.filter(association=association, email__iexact=ps_user.email, user=None).first()
            if member is not None:
                member.user = ps_user
                member.save(update_fields=["user", "updated_at"])
                report.linked_account = ps_user.email
    else:
        report = _Generator(association, profile, today=today, ps_user=ps_user, validator=validator).run()
        report.linked_account = ps_user.email if ps_user is not None else ""
    report.settings = settings_changed
    if report.changed:
        audit.record(association, None, "member.import", None, target_label=f"{report.members} adhérent(s)",
                     changes={"source": "seed_demo", "members": report.members, "memberships": report.memberships,
                              "payments": report.payments, "settings": settings_changed,
                              "linked_account": report.linked_account})
    return report
