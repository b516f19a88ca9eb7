"""Crisis signals in a family message ("urgent words", PRODUCT.md §2.3).

An urgent message gets 112 and the crisis numbers at once, whatever the hour, and is flagged for
the coach. The lists are deliberately broad: a false alarm costs the family one extra line of
phone numbers, a miss can cost much more. They are not absurd: "bang" (afraid) alone, "dood" in
"de kat is dood", or "help" inside "helpt" are no signal.

Every signal belongs to a topic (`Topic`): suicide and despair, violence, a child in danger, a
medical emergency, or a general call for help. A message can have several topics. A violence or
medical signal in a message that names a child ("hij slaat mijn zoon", "de baby ademt niet")
also gives the topic CHILD; a word for a child alone is no signal.

Matching is on whole words after normalising case, accents, Arabic letter variants and
punctuation, so "Zelfmoord!" matches "zelfmoord" but "helpt" does not match "help", and "112"
inside a number ("06-112-34567", "01123", "1,12") is no signal. A pattern word may carry a `*`:
"zelfmoord*" matches "zelfmoordgedachten", "*geweld" matches "partnergeweld", "*شرطه*" matches
Arabic words with attached prefixes or suffixes. A pattern of several words matches those words
in sequence. Digits split a word, as in Arabic written in Latin letters: "sa3dni" is the words
"sa", "3", "dni", in a pattern as in a message.

The family's language list is checked together with Dutch and English (families mix languages,
and nl/en words such as "112", "help" and "politie" are understood by everyone here); with no
language known, every list is checked. So a Dutch or English pattern must not be an everyday
word in another family language ("mes" is French for "my", "gun" is Dutch for "grant").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from itertools import product
from types import MappingProxyType


class Topic(StrEnum):
    """What a crisis signal is about."""

    SUICIDE = "suicide"  # suicide, self-harm, despair ("ik zie het niet meer zitten")
    VIOLENCE = "violence"  # violence, abuse, threats, strangulation, weapons, rape, unsafe at home
    CHILD = "child"  # a child taken or missing, hurt or abused, not breathing
    MEDICAL = "medical"  # not breathing, unconscious, overdose, seizure, heavy bleeding, ambulance
    GENERAL = "general"  # help, emergency, police, 112, SOS without a more specific topic


def _each(*parts: str) -> tuple[str, ...]:
    """Every pattern made of one alternative of each part: ("a|b", "c") -> ("a c", "b c")."""
    return tuple(" ".join(choice) for choice in product(*(part.split("|") for part in parts)))


# Words for a child, per language: with a violence or medical signal they add the topic CHILD,
# and they make up the "child missing / taken" patterns below.
_KIDS = {
    "nl": "kind|kinderen|kindje|kindjes|kids|zoon|zoontje|dochter|dochtertje|dochterke|baby"
    "|jongste|oudste|de kleine",
    "en": "child|children|kid|kids|son|daughter|baby|boy|girl|toddler",
    "fr": "enfant|enfants|fils|fille|bebe|le petit|la petite|mon petit|ma petite|gamin|gamine"
    "|gosse|gosses",
    "ar": "ابني|بنتي|ولدي|ولادي|اولادي|الولاد|الاولاد|الاطفال|طفلي|الطفل|الدراري|دراري|البيبي"
    "|بيبي|wldi|wlidi|weldi|bnti|binti|benti|ibni|ebni|lwlad|drari|bebe",
    "tr": "cocu*|bebe*|oglu*|kizi*",
    "pl": "dziecko|dzieci|dziecka|dzieckiem|dziecmi|dzieciom|syn|synek|syna|synem|corka|corke"
    "|corki|corka|coreczka|coreczke",
    "uk": "дитина|дитину|дитини|дитиною|діти|дітей|дітьми|син|сина|синок|сину|синові|донька"
    "|доньку|доньки|доня|дочка|дочку|дочки|ребенок|ребенка|ребенку|дети|детей|детьми|сын"
    "|сына|сыну|дочь|дочери",
}

SIGNALS: Mapping[str, Mapping[Topic, tuple[str, ...]]] = MappingProxyType({
    "nl": MappingProxyType({
        Topic.SUICIDE: (
            "zelfmoord*", "zelfdoding", "suicid*", "ik wil dood", "wil dood", "dood willen",
            "wil er niet meer zijn", "er niet meer willen zijn", "niet meer leven",
            "niet meer willen leven", "er een eind aan maken", "er een einde aan maken",
            "er een eind aan", "er een einde aan", "einde aan mijn leven", "eind aan mijn leven",
            "mezelf iets aandoen", "mezelf wat aandoen", "mezelf pijn doen", "mezelf snijden",
            "er gewoon niet meer zijn", "niet meer wakker worden",
            *_each("zichzelf", "iets aandoen|iets aan te doen|pijn doen|snijden|ophangen|van kant"),
            "snijdt zichzelf", "mezelf gesneden", "snij mezelf", "snijd mezelf", "mezelf ophangen",
            *_each("mezelf|me|mij", "weer|opnieuw|terug", "gesneden|gekrast|pijn gedaan"),
            "kras mezelf", "mezelf krassen", "mezelf gekrast",
            *_each("voor|onder", "de|een", "trein", "springen|gesprongen|gooien|werpen"),
            *_each("van het dak|van de brug|van het balkon|uit het raam", "springen|gesprongen"),
            "van kant maken", "mezelf van kant", "me van kant", "sta op de brug", "sta op het dak",
            "ga springen", "zelfbeschadig*", "zelfverwond*", "automutil*",
            # despair
            "ik kan niet meer", "kan het niet meer aan", "kan dit niet meer aan",
            "trek het niet meer", "trek het niet", "niet meer zitten", "niet meer zien zitten",
            # Flemish "nie"/"ni" for "niet"
            *_each("kan|trek het", "nie|ni", "meer"), *_each("nie|ni", "meer zitten"),
            *_each("kan het|kan dat", "nie|ni", "meer aan"), *_each("nie|ni", "meer leven"),
            "leven heeft geen zin", "heeft allemaal geen zin meer", "geen zin meer in het leven",
        ),
        Topic.VIOLENCE: (
            "geweld", "*geweld", "mishandel*", "misbruik*",
            *_each("slaat|sloeg|slaan|schopt|schopte|stampt|stampte", "me|mij|ons|haar|hem|mijn"
                   "|mn|m'n|de kinderen|de kids|mama|mam|papa"),
            "geslagen", "aan het slaan", "begint te slaan",
            *_each("slaag", "gekregen|krijgen|geven|gehad"),
            *_each("krijg|kreeg|krijgt|geeft|gaf", "slaag"), "klappen gekregen", "geeft me klappen",
            "afransel*", "afgeranseld", "geschopt", "bedreig*",
            *_each("dreigt|dreigde", "me|mij|ons|met|dat|de kinderen"), "wurg*", "gewurgd",
            "keel dicht*", "bij mijn keel", "bij mn keel", "bij m'n keel", "bij de keel",
            "naar mijn keel", *_each("om|rond", "mijn|m'n|mn|haar", "nek|keel|hals"),
            *_each("duwt|duwde|geduwd", "me|mij"), "heeft me geduwd", "heeft mij geduwd",
            *_each("gooit|gooide|smijt|smeet", "met stoelen|met spullen|met alles|met borden"),
            "verkracht*", "aanrand*", "aangerand", "betast*",
            *_each("aan", "haar|mij|me|hem|mijn dochter|mijn zoon", "zit|zat|zitten|gezeten"),
            "vermoord*", "doodmak*", "ons afmaken", "mij afmaken", "me afmaken", "ons dood maken",
            "mij dood maken", "me dood maken",
            *_each("ons|mij|me|haar|hem", "gaat|gaan|zal|zou|wil", "afmaken|doodmaken"),
            "neergestoken", "me gestoken", "mij gestoken", "pistool", "wapen", "vuurwapen",
            "geweer", "een bijl", "met de bijl",
            # not "mes" alone: it is French for "my" ("mes enfants")
            "een mes", "het mes", "zijn mes", "haar mes", "met een mes", "met het mes",
            "met de mes", "mes vast", "mes in zijn hand", "niet veilig", "onveilig",
            "durf niet naar huis", "durf niet meer naar huis", "niet naar huis durf*", "agressie*",
            "bang van hem", "bang voor hem",
            *_each("tegen de muur|op de grond|van de trap|door de kamer", "gegooid|geduwd"
                   "|gesmeten|geslingerd|gegooit"),
            *_each("mama|mij|me|ons|haar|de kinderen", "pijn gedaan"), "sluit me op",
            "sluit mij op", "opgesloten", "laat me niet buiten", "laat mij niet buiten",
            "laat me niet gaan", "op straat gezet", "buiten gegooid", "buitengegooid",
            "in brand steken", "fik steken", "haar aangeraakt", "mij aangeraakt", "me aangeraakt",
        ),
        Topic.CHILD: (
            "ontvoer*", "kinderontvoer*", "vermist*",
            *_each(_KIDS["nl"], "kwijt|is kwijt|is weg|is weggelopen|weggelopen|is vermist"
                   "|niet thuisgekomen|is niet thuisgekomen|niet thuis gekomen"
                   "|is niet thuis gekomen|is niet teruggekomen|niet teruggebracht"),
            *_each("heeft|hebben", "de|mijn|mn|onze|ons", _KIDS["nl"], "meegenomen|ontvoerd"
                   "|afgepakt"),
        ),
        Topic.MEDICAL: (
            "ambulance", "ziekenwagen", "ziekenauto", "reanim*", "hartmassage", "hartaanval",
            "hartstilstand", "ademt niet", "ademen niet", "kan niet ademen", "kan niet meer ademen",
            "krijgt geen lucht", "krijg geen lucht", "geen lucht meer", "ademhaalt niet",
            "stopt met ademen", "gestopt met ademen", "blauw aangelopen", "loopt blauw aan",
            "bewusteloos", "buiten bewustzijn", "flauwgevallen", "flauw gevallen", "valt flauw",
            "wordt niet wakker", "word niet wakker", "wordt niet meer wakker",
            "niet wakker te krijgen", "krijg hem niet wakker", "krijg haar niet wakker",
            "reageert nergens op", "reageert niet", "overdosis",
            *_each("alle|al zijn|al haar|al mijn|al de|te veel|teveel|een doos|de hele doos"
                   "|een hele doos|een hele strip|een strip", "pillen|medicijnen|tabletten"
                   "|slaappillen|medicatie|paracetamol|dafalgan|xanax|oxazepam|antidepressiva"),
            *_each("pillen|medicijnen|tabletten|slaappillen", "geslikt|ingeslikt"),
            "iets ingeslikt", "vergiftig*",
            *_each("chloor|bleekwater|javel|gif|wasmiddel|een batterij|batterijen",
                   "gedronken|ingeslikt|opgedronken|binnengekregen"),
            "epileptische aanval", "epilepsieaanval", "epilepsie aanval", "stuip*", "koortsstuip*",
            "heeft een aanval", "krijgt een aanval", "had een aanval", "ligt te schokken",
            "aan het schokken", "schokt helemaal", "schokt met", "trekkingen", "raar met zijn ogen",
            "raar met haar ogen", "ogen wegdraaien", "ogen draaien weg", "schuim op de mond",
            "ademt raar", "ademt heel raar", "ademt moeilijk", "beweegt niet", "beweegt niet meer",
            *_each("uit het raam|van het balkon|van het dak|uit het venster", "gevallen"),
            "is aan het stikken", "gaat stikken", "is slap", "is helemaal slap", "hangt slap",
            "bloedt heel", "bloedt erg", "bloedt veel", "bloedt zo", "bloedt hevig", "bloedt enorm",
            "hevig bloeden", "veel bloed", "overal bloed", "bloed overal", "stopt niet met bloeden",
            "blijft bloeden",
        ),
        Topic.GENERAL: (
            "help", "help me", "hulp", "red me", "red ons", "sos", "in nood", "noodgeval*",
            "noodsituatie", "noodnummer", "noodhulp", "spoed", "112", "politie", "flikken",
            "brandweer", "brand",
        ),
    }),
    "en": MappingProxyType({
        Topic.SUICIDE: (
            "suicid*", "kill myself", "killing myself", "want to die", "wanna die",
            "wish i was dead", "wish i were dead", "better off dead", "better off without me",
            "end my life", "end it all", "wanna end it", "want to end it", "going to end it",
            "gonna end it", "don't want to live", "dont want to live", "dont wanna live",
            "don't wanna live", "no reason to live", "nothing to live for", "self harm*",
            "selfharm*", "hurt myself", "hurting myself", "cut myself", "cutting myself",
            "slit my wrists", "hang myself",
            *_each("kill|killing|hurt|hurting|hurts|cut|cutting|cuts|hang", "herself|himself"),
            "i cant anymore", "i can't anymore", "pills ready", "this is goodbye",
            "goodbye forever", "want everything to stop", "want it all to stop",
            *_each("jump|jumping|jumped", "off|from|in front of"),
            # despair
            "can't go on", "cant go on", "can't do this anymore", "cant do this anymore",
            "can't take it anymore", "cant take it anymore", "can't take this anymore",
            "cant take this anymore", "can't cope", "cant cope",
        ),
        Topic.VIOLENCE: (
            "violence", "violent",
            # not "abuse" or "rape" alone: French "il abuse" (he overdoes it), "râpé" (grated)
            "abused", "abuser", "abusive", "abusing", "abuse me", "abuses me", "domestic abuse",
            "child abuse", "sexual abuse", "raped", "raping", "rapist", "rape me", "hits me",
            "hit me", "hitting me", "beats me", "beat me", "beating me", "beaten up", "beaten me",
            "was beaten", "been beaten", "beaten by him", "beaten by my", "beat up", "beats up",
            "kicks me", "kicked me", "punched me", "punches me", "slapped me", "slaps me",
            "shoved me", "threw me",
            *_each("hit|hits|hitting|beat|beats|beating|hurt|hurts|hurting|kicked|slapped",
                   "the kids|the children|my son|my daughter|my kid|my kids|my child|my baby"),
            "kill me", "kill us", "kill you", "kill her", "kill the kids", "hurt me", "hurts me",
            "hurting me", "threaten*", "molest*", "strangl*", "choked me", "choking me",
            "chokes me", "choked her", "by the throat", "by my throat", "by the neck", "by my neck",
            *_each("around|round", "my|her", "neck|throat"),
            *_each("pushed|pushes|shoved|shoves", "me|her", "down|over|into|against|off|out|and"
                   "|to the ground|hard"),
            "grabbed my throat", "grabbed my neck", "squeezed my neck", "knife", "weapon", "an axe",
            "locked me in", "locks me in", "locked me up", "wont let me leave",
            "won't let me leave", "wont let me out", "won't let me out", "smashing everything",
            "smashing things", "breaking everything", "throwing things",
            *_each("me|her|him|us", "against the wall"), "kicked me out", "threw me out",
            "burn the house", "set fire", "set the house on fire", "sexually", "assault*",
            "touched her", "touched me", "touching her", "touching me", "touches her", "touches me",
            "stabbed", "stab me",
            # not "gun" alone: Dutch "ik gun je ..." is everyday speech
            "a gun", "the gun", "his gun", "her gun", "danger", "not safe", "unsafe",
            "dont feel safe", "don't feel safe", "scared of him", "afraid of him",
        ),
        Topic.CHILD: (
            "kidnap*", "abduct*", "missing child",
            *_each(_KIDS["en"], "is missing|went missing|gone missing|has gone missing|ran away"
                   "|has run away|didnt come home|didn't come home|hasnt come home"
                   "|hasn't come home|never came home|disappeared|has disappeared"),
            *_each("wont|won't|will not|refuses to|not", "give|bring", "my|the|our", _KIDS["en"],
                   "back"),
            *_each("never see|never see my|never see the", "kids|children|son|daughter|them"),
            *_each("he|she|they|ex", "took", "the|my|our", _KIDS["en"]),
            *_each("has taken|have taken", "the|my|our", _KIDS["en"]),
            *_each("cant find my|can't find my|cannot find my|dont know where my"
                   "|don't know where my", _KIDS["en"]),
        ),
        Topic.MEDICAL: (
            "ambulance", "paramedic*", "not breathing", "isnt breathing", "isn't breathing",
            "stopped breathing", "cant breathe", "can't breathe", "cannot breathe",
            "struggling to breathe", "trouble breathing", "hard to breathe", "turning blue",
            "not moving", "isnt moving", "isn't moving",
            *_each("fell|fallen|falling", "out of the window|from the window|off the balcony"
                   "|from the balcony|off the roof|from the roof"),
            "turned blue", "unconscious", "unresponsive", "not responding", "passed out", "fainted",
            "collapsed", "wont wake up", "won't wake up", "not waking up", "cant wake him",
            "can't wake him", "cant wake her", "can't wake her", "overdose*", "too many pills",
            "all his pills", "all her pills", "all my pills", "box of pills", "bottle of pills",
            "swallowed pills", "swallowed something",
            *_each("drank|drunk|swallowed|ate|eaten", "bleach|poison|detergent|a battery"
                   "|batteries|pills|medicine"),
            "poisoned", "poisoning", "seizure*", "having a fit", "convuls*", "epileptic fit",
            "bleeding", "blood everywhere", "lots of blood", "so much blood", "heart attack", "cpr",
            "choking", "foaming at the mouth", "foam at the mouth",
        ),
        Topic.GENERAL: (
            "help", "help me", "help us", "someone come", "somebody come", "come quick", "sos",
            "emergency", "112", "call 911", "call 999", "police", "cops",
            # not "fire" alone: "got fired"
            "a fire", "on fire", "fire brigade", "fire department", "fire service",
        ),
    }),
    "fr": MappingProxyType({
        Topic.SUICIDE: (
            "suicid*", "me suicider", "vais me tuer", "veux me tuer", "envie de me tuer",
            "voudrais me tuer", "pense a me tuer", "penser a me tuer", "me foutre en l'air",
            "veux mourir", "envie de mourir", "en finir", "mettre fin a mes jours",
            "mettre fin a ma vie", "plus envie de vivre", "envie de disparaitre",
            "veux disparaitre",
            *_each("plus|pas", "la force de vivre|la force de continuer|envie de continuer"),
            *_each("me jeter|sauter|se jeter", "par la fenetre|du pont|du balcon|du toit"
                   "|sous un train|sous le train"),
            "marre de vivre", "marre de la vie",
            *_each("avaler|prendre", "tous mes|toutes mes|une boite de", "medicaments|medocs"
                   "|cachets|pilules|comprimes"),
            "me faire du mal", "me fais du mal", "se faire du mal", "se fait du mal", "se scarifie",
            "se suicider", "se tuer", "me pendre", "se pendre", "scarifi*", "automutil*",
            "les veines",
            # despair
            "en peux plus", "jen peux plus", "peux plus vivre",
        ),
        Topic.VIOLENCE: (
            "violence*", "violent*", "me frapp*", "m'a frapp*", "ma frapp*", "nous frapp*",
            "il frappe", "elle frappe",
            *_each("frappe|frapper|frappait|a frappe", "les enfants|mes enfants|mon fils|ma fille"
                   "|le bebe|mon bebe"),
            "me bat", "me battait", "nous bat", "bat les enfants",
            # not "battu" alone: "il a battu son record"
            "battue", "battues", "m'a battu", "ma battu", "nous a battu", "enfant battu",
            *_each("battu", "les enfants|mon fils|ma fille|par mon|par lui"), "tabass*",
            *_each("serre|serrer|serrait|serrant", "le cou|la gorge|mon cou|ma gorge"),
            "par le cou", "par la gorge", "autour du cou", "autour de mon cou", "me pousse",
            "m'a pousse*", "ma pousse*",
            *_each("plaque*|pousse*|jete*|projete*|cogne*", "contre le mur"), "jete par terre",
            "ma jete", "m'a jete", "coups de pied", "m'enferme", "m'a enferme*", "ma enferme*",
            "enfermee", "m'a mis dehors", "ma mis dehors", "mettre le feu", "bruler la maison",
            "leve la main sur", "attouch*", "m'a touchee", "ma touchee", "l'a touchee",
            "il me cogne", "m'a cogne", "ma cogne", "gifl*", "une claque", "donne des coups",
            "des coups de poing", "coups et blessures", "maltrait*", "abus", "abusee", "abuse de",
            "viol", "viole", "violee", "violer", "violait", "agress*", "menace*", "couteau*",
            "poignard*", "hache", "arme", "armes", "pistolet", "fusil", "danger", "pas en securite",
            "plus en securite", "*etrangl*", "va me tuer", "veut me tuer", "vont me tuer",
            "veulent me tuer", "voulait me tuer", "essaye de me tuer", "essaie de me tuer",
            "essayer de me tuer", "failli me tuer", "nous tuer", "te tuer", "tuer les enfants",
            "tuer mes enfants", "peur de lui",
        ),
        Topic.CHILD: (
            "kidnapp*", "enlevement",
            *_each(_KIDS["fr"], "a disparu|disparu|disparue|a fugue|fugue|est introuvable"
                   "|introuvable|n'est pas rentre|n'est pas rentree|est pas rentre"
                   "|est pas rentree|pas rentre|pas rentree"),
            *_each("a pris|a emmene|ont pris|ont emmene", "les|mes|mon|ma|nos|notre", _KIDS["fr"]),
            *_each("enleve|enlevee|kidnappe|vole", "les|mes|mon|ma|nos|notre", _KIDS["fr"]),
            *_each("refuse de|veut pas|veut plus", "les rendre|me les rendre|rendre les enfants"
                   "|me rendre les enfants|rendre mon fils|rendre ma fille|rendre mes enfants"),
        ),
        Topic.MEDICAL: (
            "ambulance", "samu", "pompiers", "respire plus", "respire pas", "ne respire",
            "peut pas respirer", "peux pas respirer", "respire mal", "mal a respirer", "bouge plus",
            *_each("tombe|tombee", "de la fenetre|par la fenetre|du balcon|du toit"),
            "arrive pas a respirer", "plus respirer", "inconscient*", "evanoui*",
            "perdu connaissance", "tombe dans les pommes", "se reveille pas", "se reveille plus",
            "reagit plus", "overdose", "surdose", "surdosage",
            *_each("tous ses|tous mes|toutes ses|toutes mes|trop de|une boite de|boite de"
                   "|une plaquette de|toute la boite de", "medicaments|medocs|medoc|cachets"
                   "|pilules|comprimes|doliprane|dafalgan|paracetamol|efferalgan|xanax|lexomil"
                   "|somniferes|antidepresseurs"),
            *_each("avale|a avale", "des medicaments|des medocs|des cachets|des pilules"
                   "|des comprimes"),
            "crise d'epilepsie", "crise epilep*", "convuls*", "saigne", "saigne beaucoup",
            "saignement*", "hemorragi*", "plein de sang", "beaucoup de sang", "sang partout",
            "empoisonn*", "intoxi*", "bu de la javel", "avale de la javel", "crise cardiaque",
            "massage cardiaque", "s'etouffe", "s'est etouffe", "s'est etouffee", "devient bleu",
            "devient tout bleu", "devenu bleu", "devenu tout bleu",
        ),
        Topic.GENERAL: (
            "au secours", "au secour", "secours", "secour", "aidez-moi", "aide-moi", "a l'aide",
            "besoin d'aide", "aidez nous", "sauvez moi", "urgence", "112", "police", "flics",
            "gendarm*",
            # not "le feu" nor "au feu" alone: "tournez au feu rouge"
            "il y a le feu", "en feu", "pompiers", "incendie",
        ),
    }),
    "ar": MappingProxyType({
        Topic.SUICIDE: (
            "*انتحار*", "*نتحر*", "*شنق*", *_each("*قتل", "نفسي|حالي|روحي|راسي"), "بدي موت",
            "بدي اموت", "بغيت نموت", "عايز اموت", "عايزه اموت", "عاوز اموت", "عاوزه اموت",
            "اريد ان اموت", "اريد الموت", "نفسي اموت", "ما بدي عيش", "مابدي عيش", "ما بغيتش نعيش",
            *_each("لا", "اريد|اود|ابغى", "العيش|ان اعيش|الحياه"),
            "مابغيتش نعيش", "مش عايز اعيش", "مش عايزه اعيش", "لا اريد ان اعيش", "قادر* نعيش",
            "قادر* اعيش", "تعبت من الحياه", "تعبت من حياتي", "كرهت حياتي", "كرهت الحياه",
            "*خلص من حياتي", "*نهي حياتي",
            *_each("*ذي|*جرح", "نفسي|نفسها|نفسه|حالي|حالها|روحي|روحها|راسي|راسها"),
            # despair
            "ما بقيتش قادر*", "مابقيتش قادر*", "ما عاد فيني", "ماعاد فيني", "مش قادر* استحمل",
            "مش قادر* اتحمل", "ما عدت احتمل", "لم اعد احتمل",
            # Arabic in Latin letters (digits for letters: 3 ع, 7 ح, 9 ق, 2 ء, 5 خ)
            "*nti7ar*", "*ntihar*", "bghit nmout", "bghit nmot", "bghit nmut", "bgit nmot",
            *_each("*9tl|*9tel|*qtl|*qtel|*2tol|*2tel", "rasi|rassi|rou7i|ro7i|nafsi|7ali"),
            "bde mout", "bdi mout", "bedi mout", "badi mout", "3ayez amot", "3ayza amot",
            "3awz amot", "3ayez amoot",
            *_each("mab9itch|ma b9itch|mab9itsh|mabqitch", "9adra|9ader|qadra|qader"),
        ),
        Topic.VIOLENCE: (
            "*عنف", "*ضربني", "*ضربتني", "*ضربوني", "*يضربنا", "*يضربها", "*يضربه",
            *_each("*يضرب", "فيا|فيها|فينا|فيه|فيني"), "*طردني", "*طردنا", "*طردوني",
            *_each("*مسكني|*شدني|*قبضني|*خنقني", "من رقبتي|من حلقي|من عنقي"), "*حبسني", "*حابسني",
            "*حابسنا", "*يضربو", "يضرب الاطفال", "يضرب الولاد", "*اعتداء", "*اغتصاب*", "*غتصب*",
            "*تحرش*", "*هددني", "*هددنا", "*تهديد", "*سكين", "سلاح", "*السلاح", "جنوي", "*الجنوي",
            "في خطر", "*قتلني", "*قتلنا", "*قتلها", "*قتلوني", "*يموتني", "*خنقني", "*خنقتني",
            "*خنقها", "خايفه منو", "خايفه منه",
            # Latin letters
            "*drbni", "*drabni", "*darbni", "*drobni", "*dorbni", "*derbni", "*drebni", "*darebni",
            "*drbna", "*drebna", "*drabny", "*darbny", "*drbny", "*drobny", "*drbatni", "*darbatni",
            "*drbouni", "*drbuni", "*9tlni", "*9telni", "*qtlni", "*qtelni", "*2tolni", "*2telni",
            "*2tilni", "*5n9ni", "*5na9ni", "*khn9ni", "*khna9ni", "*khnqni", "*5ne2ni", "*5na2ni",
            "sekin", "sikin", "sikkin", "janwi", "jenwi", "f khatar", "fi khatar", "f lkhatar",
        ),
        Topic.CHILD: (
            "*اختطف*", "*مخطوف*", "خطفو*", "خطفوا", "*مفقود*",
            *_each(_KIDS["ar"], "مابانش|ما بانش|ماباناتش|ما باناتش|ما ظهرش|ضاع|ضايع|ضايعه|ضاعت"
                   "|تلف|تلفات|مختفي|مختفيه|ما رجعش|مارجعش|ما رجعتش|مارجعتش|tlef|tlf|tlfat|tlfet"
                   "|da3|dayi3|daye3"),
            *_each("اخد|اخذ|خدا", _KIDS["ar"]),
            *_each("هرب|هربت", "بالولاد|بالاولاد|بالاطفال|بالدراري|بولادي|باولادي"),
            *_each("مش لاقي|مش لاقيه|ما لقيتش|مالقيتش", _KIDS["ar"]),
        ),
        Topic.MEDICAL: (
            "*اسعاف*", "*مبيلانس", "*مبولانس", "*مبلانس", "*تنفس*", "فاقد الوعي", "فاقده الوعي",
            "فقد الوعي", "فقدت الوعي", "فاقد للوعي", "غايب عن الوعي", "مغمي عليه", "مغمي عليها",
            "اغمي عليه", "اغمي عليها", "جرعه زائده", "جرعه زايده", "جرعه زياده", "ما كيتحركش",
            "ماكيتحركش", "مش بيتحرك", "ما بيتحرك", "ما عم يتحرك",
            *_each("طاح|طاحت|وقع|وقعت", "من", "الطابق|الشرجم|البالكون|البلكون|البلكونه|السطح"
                   "|الشباك|الدور"),
            *_each("*بلع*", "حبوب|الحبوب|دوا*|الدوا*|بطاري*|جافيل|الجافيل|كلور|الكلور|سم"),
            *_each("*شرب*", "جافيل|الجافيل|ماء جافيل|كلور|الكلور|سم|السم"), "الدوا كامل",
            "الدوا كلو", "الدواء كله", "الدوا كله", "حبوب كثير", "حبوب كتير", "حبوب بزاف",
            "دوا بزاف", "*تسمم*", "*صرع", "*تشنج*", "*نزيف*", "*نزف*", "*سيل* بالدم", "*سيل* دم",
            "دم كثير", "دم كتير", "دم بزاف", "سكته قلبيه", "ازمه قلبيه",
            # Latin letters
            "*tnafas*", "*tnafs*", "*tnfs*", "*tnffs*", "*tnaffas*", "mghmi 3lih", "mghmi 3liha",
            "lambulance", "lambilance", "lambulans",
        ),
        Topic.GENERAL: (
            "ساعدني", "ساعدوني", "ساعدونا", "*النجده", "نجده", "مساعده", "لمساعده", "عاونوني",
            "عتقوني", "عتقني", "الحقوني", "الحقني", "الحقيني", "الحقونا", "الحقنا", "انقذوني",
            "انقذني", "*شرطه*", "*بوليس", "طوارئ", "112", "*حريق*", "الاطفاء", "المطافئ",
            # Latin letters
            "sa3dni", "sa3douni", "sa3dona", "sa3edni", "sa3idni", "sa3dny", "sa3dooni", "s3dni",
            "s3douni", "3awnouni", "3tqoni", "3t9oni", "3et9oni", "3atqoni", "el7a2ouni", "el7a2ni",
            "l7a9oni", "l7a9ni", "l7qoni", "bolis", "lbolis", "boulis", "lboulis", "chorta",
            "shorta",
        ),
    }),
    "tr": MappingProxyType({
        Topic.SUICIDE: (
            "intihar*", "kendimi oldur*", "olmek istiyorum", "olmek isti*", "keske olsem",
            "yasamak istemiyorum", "yasamak istemi*", "hayatima son ver*", "her seye son ver*",
            "canima kiy*", "kendime zarar*", "kendine zarar*",
            *_each("kendimi|kendini", "kesiyor*|kestim|kesti|kesece*|kesmek*|kesmis|oldur*|asaca*"
                   "|asmak*|astim|asti|asmis"),
            "bilek* kes*", "jilet at*", "jiletle*", "yasamanin anlami yok",
            # despair
            "artik dayanamiyorum", "dayanamiyorum artik", "artik dayanamiyo*",
            "kaldiramiyorum artik", "artik kaldiramiyorum",
        ),
        Topic.VIOLENCE: (
            "siddet*", "dayak*", "beni dov*", "bizi dov*", "dovuyor", "dovuyo", "dovdu", "dovmus",
            "dovecek", "cocu* dov*", "istismar*", "taciz*", "tecavuz*", "tehdit*", "bicak*",
            "silah*", "balta*", "tehlike*", "guvende degil*",
            *_each("beni|bizi|seni", "oldurece*|oldurmek*|oldurmeye|oldurur|oldurdu"), "oldurecek",
            "bogaz* sik*", "bogaz* saril*", "bogaz* yapis*", "bogmaya",
            *_each("beni|bizi|cocu*", "itti|itiyor|itip|itmis"), "bogacak",
            *_each("beni|bana|bize|bizi|cocu*", "vur*"),
            *_each("bana|bize|cocu*|kizi*|oglu*|esine", "el kaldir*"), "el kaldirdi",
            "el kaldiriyor", "beni kilitle*", "eve kilitle*", "beni eve kapatti", "evden atti",
            "beni kovdu", "evi yakaca*", "tokat at*", "tokatla*", "yumruk at*", "yumrukla*",
            "tekmele*", "ondan korkuyorum", "korkuyorum ondan",
        ),
        Topic.CHILD: (
            "kayip cocuk", "yurt disina kacir*", "yurtdisina kacir*", "yurt disina goturdu",
            *_each(_KIDS["tr"], "kacirdi|kacirildi|kacirdilar|kacirmis|kayip|kayboldu|eve gelmedi"
                   "|eve donmedi|ortada yok|ortalikta yok|alip kacti|aldi kacti|alip gitti"
                   "|goturdu"),
            *_each(_KIDS["tr"], "bulamiyorum|bulamiyoruz"),
        ),
        Topic.MEDICAL: (
            "ambulans*", "nefes almiyor", "nefes almiyo", "nefes alam*", "nefesi kesil*",
            "nefes yok", "morardi", "morarmis", "bayildi", "bayilmis", "uyanmiyor*", "uyanmiyo",
            "kendinde degil", "hareket etmiyor", "kipirdamiyor", "zor nefes", "nefes almakta zor*",
            *_each("pencereden|balkondan|camdan|yuksekten|catidan", "dustu|dusmus"),
            "bilinc* kapa*", "bilinc* kayb*", "bilincsiz", "asiri doz*", "overdoz*", "zehirlen*",
            *_each("butun|tum|kutu|bir kutu|bir suru", "ilac|ilaclari|ilaclarini|ilaclarimi|hap"
                   "|haplari|haplarini"),
            *_each("hap|haplari|ilac*", "yuttu|yutmus"), "hap icti", "haplari icti",
            *_each("cok|fazla|asiri|bir suru", "ilac|hap|ilaclari|haplari", "icti|ictim|icmis"
                   "|yuttu|yuttum"),
            *_each("camasir suyu|deterjan|zehir|pil", "icti|icmis|yuttu|yutmus"), "kriz gecir*",
            "nobet gecir*", "havale gecir*", "sara krizi", "sara nobeti", "epilepsi krizi",
            "epilepsi nobeti", "kasiliyor", "kan kaybediyor", "kanama*", "cok kan", "kan durmuyor",
            "kaniyor", "kalp krizi", "kalbi durdu",
        ),
        Topic.GENERAL: (
            "yardim", "yardim edin", "yardim et", "imdat", "acil", "polis*", "kurtarin",
            "kurtar beni", "112", "yangin*", "itfaiye*",
        ),
    }),
    "pl": MappingProxyType({
        Topic.SUICIDE: (
            "samoboj*", "zabic sie", "zabije sie", "zabic siebie", "chce umrzec",
            "chcialabym umrzec", "chcialbym umrzec", "nie chce zyc", "nie chce juz zyc",
            "nie chce dalej zyc", "nie mam po co zyc", "nie mam sily zyc", "mam dosc zycia",
            "skoncze ze soba", "skonczyc ze soba", "odebrac sobie zycie", "odbiore sobie zycie",
            "samookalecz*", "okalecz*", "tne sie", "tnie sie", "sie tne", "sie tnie", "ciac sie",
            "pocielam sie", "powiesic sie", "sie powiesic", "powiesze sie", "sensu zycia",
            "chce to skonczyc", "to wszystko skonczyc", "mam dosc wszystkiego", "bez sensu zyc",
            "pocialem sie",
            # despair
            "juz nie daje rady", "nie daje juz rady", "nie wytrzymam juz", "juz nie wytrzymam",
            "nie moge juz tak zyc", "nie moge juz wytrzymac",
        ),
        Topic.VIOLENCE: (
            "przemoc*", "bije mnie", "mnie bije", "bije nas", "nas bije", "bije dziec*",
            "bije mame", "bije zone", "bije ja", "bil mame", "bil ja",
            *_each("zamknal*|zamyka", "mnie|nas"), "mnie zamknal*", "wyrzucil mnie",
            *_each("podniosl|podnosi", "na mnie reke|reke na mnie"), "dotykal ja", "dotykal mnie",
            "podpal*", "bije syn*", "bije cork*", "bil mnie", "bila mnie", "mnie bil",
            # not "pobil*": "pobilam rekord" (I broke a record)
            "pobil", "pobila", "pobili", "pobity", "pobita",
            *_each("uderzyl*", "mnie|nas|syn*|cork*|dziec*"), "mnie uderzyl*", "uderza mnie",
            "kopie mnie", "kopnal* mnie", "szarpie mnie", "szarpal* mnie", "mnie leje", "leje mnie",
            "leje dzieci", "znec*", "molestow*", "zgwalc*", "gwalt", "gwaltu", "gwalcil*",
            "grozi mi", "grozi nam", "grozi ze", "grozil*", "grozb*", "mi grozi", "nam grozi",
            # not "bron" alone: "bron boze" (God forbid)
            "noz", "nozem", "noza", "ma bron", "z bronia", "bronia", "pistolet*", "siekier*",
            "niebezpieczenstw*", "nie jestem bezpieczna", "nie jestem bezpieczny",
            "nie czuje sie bezpieczn*", "mnie zabije", "zabije mnie", "nas zabije", "zabije nas",
            "zabic mnie", "zabic nas", "zabije dzieci", "dusil* mnie", "dusi mnie", "mnie dusi*",
            "nas dusi*", "udusi*", "podduszal*", "za gardlo", "za szyje",
            *_each("popchnal*|pcha|zepchnal*|popycha", "mnie|nas"),
            *_each("boje sie|boimy sie", "go|jego|wrocic|wracac|wrocic do domu|o zycie"),
        ),
        Topic.CHILD: (
            "porwal*", "porwanie", "porwano", "uprowadz*", "zaginal*", "zaginion*", "zaginiecie",
            *_each("nie oddal*|nie oddaje|nie chce oddac|nie odda", _KIDS["pl"]),
            *_each(_KIDS["pl"], "nie wrocil*|zniknal*|zniknela|uciekl* z domu"),
            *_each("zabral", _KIDS["pl"]), *_each("zabral mi", _KIDS["pl"]),
            *_each("nie moge znalezc", _KIDS["pl"]),
        ),
        Topic.MEDICAL: (
            "karetk*", "pogotowie", "nie oddycha*", "nie moze oddychac", "nie moge oddychac",
            "przestal* oddychac", "nieprzytomn*", "stracil* przytomnosc", "zemdlal*",
            "nie budzi sie", "sie nie budzi", "nie moge go obudzic", "nie moge jej obudzic",
            "nie da sie obudzic", "przedawkow*", "nie rusza sie", "sie nie rusza", "nie reaguje",
            "ciezko oddycha", "ledwo oddycha",
            *_each("wypil*|polkn*|zjadl*|lykn*", "plyn|wybielacz|domestos|kreta|detergent|baterie"
                   "|bateryjke|trucizne|chemi*"),
            *_each("wypadl*|spadl*", "z okna|z balkonu|z dachu|ze schodow"),
            *_each("polkn*|lykn*|nalykal* sie", "tabletki|tabletek|leki|lekow|wszystkie|cale"
                   "|opakowanie"),
            "wszystkie tabletki", "wszystkie leki", "cale opakowanie", "za duzo tabletek",
            "za duzo lekow", "zatrul*", "padaczk*", "atak epilepsji", "drgawk*", "krwawi*",
            "krwotok*", "duzo krwi", "pelno krwi", "zawal serca", "reanim*",
        ),
        Topic.GENERAL: (
            "pomocy", "pomoz mi", "pomozcie", "pomozcie mi", "ratunku", "ratujcie", "policj*",
            "112", "pozar*", "straz pozarn*",  # not "pali sie": a light is on, too
        ),
    }),
    "uk": MappingProxyType({
        Topic.SUICIDE: (
            "самогуб*", "суїцид*", "вбити себе", "вб'ю себе", "вбю себе", "покінчити з собою",
            "покінчу з собою", "хочу померти", "хочу вмерти", "хочу здохнути", "не хочу жити",
            "не хочу більше жити", "немає сенсу жити", "нема сенсу жити", "різати себе",
            "ріжу себе", "*різала себе", "*різав себе", "повіситись", "повіситися", "повішусь",
            # despair
            "більше не можу", "не можу більше", "не витримую", "сенсу жити",
            # Russian, which many Ukrainian families also write.
            "самоубий*", "суицид*", "хочу умереть", "убью себя", "убить себя", "покончить с собой",
            "покончу с собой", "повеситься", "повешусь", "не хочу жить", "больше не могу",
            "не могу больше", "смысла жить", "смысла жизни", "режу себя", "*резала себя",
            "*резал себя", "резать себя",
        ),
        Topic.VIOLENCE: (
            "насильств*", "б'є мене", "бє мене", "бьє мене", "мене б'є", "мене бє", "бив мене",
            "мене бив", "била мене", "б'є нас", "б'є дітей", "б'є дитину", "бив дитину",
            "бив дітей", "побив*", "побила", "вдари*", "ударив*", "ударил*", "знущ*", "зґвалт*",
            "згвалт*", "ґвалт*", "погрож*", "зброя", "зброю", "пістолет", "сокир*", "топор*",
            # not "ніж" alone: it is also "than" ("більше ніж два")
            "ножем", "з ножем", "нього ніж", "неї ніж", "має ніж", "взяв ніж", "схопив ніж",
            "небезпек*", "небезпечн*", "не в безпеці", "мене вб'є", "мене вбє", "вб'є мене",
            "вбє мене", "вб'є нас", "нас вб'є", "вбити мене", "вбити нас", "задушит*", "задушив*",
            "задушу", "душив мене", "душить мене", "мене душить", "мене душив", "боюсь його",
            "його боюсь", "боюся його", "його боюся", "зачинив мене", "мене зачинив",
            "замкнув мене", "мене замкнув",
            "вигнав мене", "за горло", "за шию", "штовхнув мене", "штовхає мене", "мене штовхнув",
            "руку на мене", "на мене руку", "підпал*",
            *_each("кинув|кидав|жбурнув|кинула", "у мене|в мене"), "чіпав її", "розбещ*",
            "домагав*",
            # Russian
            "насили*", "бьет меня", "меня бьет", "избил*", "избива*", "бил меня", "изнасил*",
            "угрожа*", "угроз*", "оружие", "пистолет", "нож", "ножом", "убьет меня", "меня убьет",
            "убьет нас", "убить меня", "задушил*", "душил меня", "душит меня", "боюсь его",
            "его боюсь", "в опасности", "запер меня", "меня запер", "за шею", "толкнул меня",
            "толкает меня", "руку на меня", "на меня руку", "кинул в меня", "поджечь", "приставал*",
            "домогал*",
        ),
        Topic.CHILD: (
            "викра*", "похити*", "безвісти", "без вести",
            *_each("не віддає|не віддав|не віддала|не повертає|не повернув|не отдает|не отдал"
                   "|не вернул", _KIDS["uk"]),
            *_each(_KIDS["uk"], "зник|зникла|зникли|пропав|пропала|пропали|не повернувся"
                   "|не повернулась|не повернулася|не прийшов додому|не прийшла додому"
                   "|не вернулся|не вернулась|не пришел домой|не пришла домой|втік з дому"
                   "|втекла з дому|сбежал|сбежала"),
            # the man's past tense: a mother "забрала дітей" from school every day
            *_each("забрав|забрал|вкрав|украл", _KIDS["uk"]),
        ),
        Topic.MEDICAL: (
            "швидку", "швидкої", "швидка допомога", "скорую", "скорой", "скорая помощь", "не дихає",
            "не дише", "не може дихати", "не можу дихати", "перестав дихати", "перестала дихати",
            "задихається", "задихаюсь", "без свідомості", "знепритомні*", "втратив свідомість",
            "втратила свідомість", "не приходить до тями", "непритомн*", "не прокидається",
            "передоз*", "всі таблетки", "усі таблетки", "багато таблеток", "пачку таблеток",
            "наковта*", "отруї*", "судоми", "судомах", "судомі", "приступ епілепсії",
            "напад епілепсії", "епілептичн*", "кровотеч*", "кровоточ*", "у крові", "в крові",
            "кровить", "не рухається", "важко дихає",
            *_each("випив|випила|проковтнув|проковтнула|выпил|выпила|проглотил|проглотила",
                   "засіб|отруту|батарейку|хлор|білизну|средство|яд|хлорку|отбеливатель"),
            *_each("впав|впала|випав|випала", "з вікна|з балкона|з даху"), "багато крові",
            "інфаркт", "інсульт",
            # Russian
            "не дышит", "не может дышать", "не могу дышать", "задыхается", "без сознания",
            "потерял сознание", "потеряла сознание", "не приходит в себя", "не просыпается",
            "все таблетки", "много таблеток", "не двигается", "тяжело дышит",
            *_each("выпал|выпала|упал|упала", "из окна|с балкона|с крыши"), "наглота*", "отравил*",
            "отравлен*", "судороги", "судорогах", "приступ эпилепсии", "эпилептическ*", "в крови",
            "много крови", "инфаркт", "инсульт",
        ),
        Topic.GENERAL: (
            # not "допомога" alone: "соціальна допомога" is a benefit
            "допоможіть", "допоможи", *_each("потрібна|треба|терміново", "допомога"),
            "допомога потрібна", *_each("прошу|потребую|потрібно|треба", "допомоги"), "рятуйте",
            "рятуй", "поліці*", "112", "пожеж*", "пожар*",
            # Russian
            "помогите", "помогите мне", "спасите", "полици*",
        ),
    }),
})  # fmt: skip

# Words that, with a violence or medical signal, make the message about a child.
_CHILD_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {language: tuple(kids.split("|")) for language, kids in _KIDS.items()}
)
_CHILD_WITH = frozenset({Topic.VIOLENCE, Topic.MEDICAL})
_ALWAYS_CHECKED = ("nl", "en")
_LETTER_MAP = str.maketrans(
    {
        "ı": "i",  # Turkish dotless i
        "ł": "l",  # Polish
        "ø": "o",
        "đ": "d",
        "æ": "ae",
        "œ": "oe",
        "ى": "ي",  # Arabic alef maksura written for ya
        "ة": "ه",  # Arabic ta marbuta, often written as ha
        "ـ": "",  # Arabic tatweel (stretching)
        "ʼ": "'",  # the Ukrainian apostrophe (a letter to Unicode): "бʼє" is "б'є"
        "🆘": " sos ",
    }
)
# A number keeps its inner punctuation, so "06-112-34567" and "1,12" are not "112".
_WORD = re.compile(r"\d+(?:[-./:,]\d+)*|[^\W\d_]+")


def _normalise(text: str) -> str:
    text = text.casefold().translate(_LETTER_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue  # accents, Arabic vowel marks, hamza and madda
        if char.isdigit():
            char = str(unicodedata.decimal(char, char))  # Arabic-Indic digits too
        kept.append(char)
    # Casefold again: decomposition can uncover letters (e.g. the Turkish capital İ).
    return "".join(kept).casefold().translate(_LETTER_MAP)


def words(text: str) -> tuple[str, ...]:
    """The normalised words of `text`, as the matcher sees them."""
    return tuple(_WORD.findall(_normalise(text)))


_EXACT, _PREFIX, _SUFFIX, _INFIX = range(4)


def _part(pattern: str) -> tuple[int, str]:
    """A pattern word as how it matches and what: "zelfmoord*" -> (_PREFIX, "zelfmoord")."""
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 2:
        return _INFIX, pattern[1:-1]
    if pattern.endswith("*"):
        return _PREFIX, pattern[:-1]
    if pattern.startswith("*"):
        return _SUFFIX, pattern[1:]
    return _EXACT, pattern


def _part_matches(kind: int, part: str, word: str) -> bool:
    if kind == _EXACT:
        return word == part
    if kind == _PREFIX:
        return word.startswith(part)
    if kind == _SUFFIX:
        return word.endswith(part)
    return part in word


def _sequence(pattern: str) -> tuple[str, ...]:
    """A pattern as normalised words, keeping its `*` marks ("m'a frappé*" -> m, a, frappe*)."""
    sequence: list[str] = []
    for piece in pattern.split():
        parts = list(words(piece.strip("*")))
        if not parts:
            continue
        if piece.startswith("*"):
            parts[0] = "*" + parts[0]
        if piece.endswith("*"):
            parts[-1] += "*"
        sequence.extend(parts)
    return tuple(sequence)


@dataclass(frozen=True)
class _Signal:
    order: int  # place in the language's lists, so results come in list order
    pattern: str
    topics: frozenset[Topic]
    sequence: tuple[str, ...]

    @cached_property
    def rest(self) -> tuple[tuple[int, str], ...]:
        """The words after the first, parsed once: the index matched the first already."""
        return tuple(_part(pattern) for pattern in self.sequence[1:])


@dataclass(frozen=True)
class _Index:
    """Signals by their first pattern word, so a message word finds its candidates by lookup:
    a plain word, a prefix ("zelfmoord*"), a suffix ("*geweld") or, scanned, an infix."""

    plain: Mapping[str, tuple[_Signal, ...]]
    prefix: Mapping[str, tuple[_Signal, ...]]
    suffix: Mapping[str, tuple[_Signal, ...]]
    infix: tuple[tuple[str, tuple[_Signal, ...]], ...]
    # The lengths the prefixes and suffixes come in, shortest first: a word is cut only at
    # those (every length up to the longest was 26 look-ups a word where 9 find the same).
    prefix_sizes: tuple[int, ...]
    suffix_sizes: tuple[int, ...]

    @classmethod
    def of(cls, signals: list[_Signal]) -> _Index:
        # One table per way a first word matches, in _part's order (_EXACT … _INFIX).
        tables: tuple[dict[str, list[_Signal]], ...] = ({}, {}, {}, {})
        for signal in signals:
            kind, part = _part(signal.sequence[0])
            tables[kind].setdefault(part, []).append(signal)
        plain, prefix, suffix, infix = (
            {key: tuple(value) for key, value in table.items()} for table in tables
        )
        return cls(plain, prefix, suffix, tuple(infix.items()),
                   tuple(sorted({len(key) for key in prefix if key})),
                   tuple(sorted({len(key) for key in suffix if key})))

    def found(self, text_words: tuple[str, ...]) -> list[_Signal]:
        """The signals in `text_words`, in list order."""
        found: dict[int, _Signal] = {}
        # Each candidate's first word matched by its look-up; only the rest is compared (a
        # message of seven plain words compared 46 candidates word by word, 95 µs).
        for start, word in enumerate(text_words):
            candidates = [self.plain.get(word, ())]
            for size in self.prefix_sizes:
                if size > len(word):
                    break
                candidates.append(self.prefix.get(word[:size], ()))
            for size in self.suffix_sizes:
                if size > len(word):
                    break
                candidates.append(self.suffix.get(word[-size:], ()))
            candidates.extend(signals for part, signals in self.infix if part in word)
            for signals in candidates:
                for signal in signals:
                    if signal.order not in found and _rest_matches(
                        text_words, start, signal.rest
                    ):
                        found[signal.order] = signal
        return [found[order] for order in sorted(found)]


@dataclass(frozen=True)
class _Matcher:
    signals: _Index
    children: _Index  # the words for a child (signals without a topic)


@lru_cache(maxsize=16)
def _compiled(language: str) -> _Matcher:
    topics: dict[str, set[Topic]] = {}
    for topic, patterns in SIGNALS[language].items():
        for pattern in patterns:
            topics.setdefault(pattern, set()).add(topic)
    signals = [
        _Signal(order, pattern, frozenset(pattern_topics), _sequence(pattern))
        for order, (pattern, pattern_topics) in enumerate(topics.items())
    ]
    children = [
        _Signal(order, kid, frozenset(), _sequence(kid))
        for order, kid in enumerate(_CHILD_WORDS.get(language, ()))
    ]
    # An empty sequence (a pattern without words) would match everything: leave it out.
    return _Matcher(
        _Index.of([signal for signal in signals if signal.sequence]),
        _Index.of([kid for kid in children if kid.sequence]),
    )


def _languages(language: str | None) -> tuple[str, ...]:
    if language is None or language not in SIGNALS:
        return tuple(SIGNALS)
    return tuple(dict.fromkeys((language, *_ALWAYS_CHECKED)))


def _rest_matches(text_words: tuple[str, ...], start: int,
                  rest: tuple[tuple[int, str], ...]) -> bool:
    """Whether the words after `start` match `rest` (the signal's words after its first)."""
    if start + len(rest) >= len(text_words):
        return False
    for offset, (kind, part) in enumerate(rest, start + 1):
        if not _part_matches(kind, part, text_words[offset]):
            return False
    return True


def _signals(text_words: tuple[str, ...], languages: tuple[str, ...]) -> list[_Signal]:
    return [
        signal for checked in languages for signal in _compiled(checked).signals.found(text_words)
    ]


def _names_child(text_words: tuple[str, ...], languages: tuple[str, ...]) -> bool:
    return any(_compiled(checked).children.found(text_words) for checked in languages)


def urgent_signals(text: str, language: str | None) -> tuple[str, ...]:
    """The signal patterns found in `text` (for tests and review; never log message content)."""
    signals = _signals(words(text), _languages(language))
    return tuple(dict.fromkeys(signal.pattern for signal in signals))


def urgent_topics(text: str, language: str | None) -> frozenset[Topic]:
    """The topics of the signals found in `text` (empty when not urgent)."""
    text_words, languages = words(text), _languages(language)
    topics = {topic for signal in _signals(text_words, languages) for topic in signal.topics}
    if topics & _CHILD_WITH and _names_child(text_words, languages):
        topics.add(Topic.CHILD)
    return frozenset(topics)


def is_urgent(text: str, language: str | None) -> bool:
    """Whether `text` carries a crisis signal in `language`, Dutch or English."""
    return bool(urgent_signals(text, language))
