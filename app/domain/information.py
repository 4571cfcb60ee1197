"""What the patient is told before anything medical happens (charte §1.3).

The charte lists seven things the patient must know before a teleconsultation:
practical modalities, possible alternatives, the possibility of being
assisted by a health professional, confidentiality of the exchange,
computer processing of personal data, protection and security of health
data, cost and what remains to pay. The right to refuse and to stop at any
time (CSP L.1111-4; charte §1.3 last paragraph) is added as an eighth item
because a kiosk with no one around must say it itself.

Texts are French source texts keyed by message id; the UI translates by id.
Long texts have an easy-to-read variant. Nothing here is specific to a site:
the nearby places for an in-person visit come from the site configuration
and are shown by the UI under the "alternatives" item.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.domain.messages import Message


class InformationTopic(enum.StrEnum):
    MODALITIES = "modalities"
    ALTERNATIVES = "alternatives"
    ASSISTANCE = "assistance"
    CONFIDENTIALITY = "confidentiality"
    DATA_PROCESSING = "data-processing"
    DATA_SECURITY = "data-security"
    COST = "cost"
    RIGHT_TO_REFUSE = "right-to-refuse"


@dataclass(frozen=True, slots=True)
class InformationItem:
    topic: InformationTopic
    title: Message
    body: Message
    from_charter: bool = True  # one of the seven items of charte §1.3


INFORMATION_ITEMS: tuple[InformationItem, ...] = (
    InformationItem(
        InformationTopic.MODALITIES,
        Message("info.modalities.title", "Comment se passe la téléconsultation"),
        Message(
            "info.modalities.body",
            "Vous allez parler à un médecin par vidéo, depuis cette cabine. Avant l'appel, "
            "vous confirmez votre identité et vous pouvez prendre votre température, votre "
            "tension et votre taux d'oxygène avec les appareils de la cabine ; le médecin "
            "verra ces mesures. Le médecin se présente à vous avant de commencer. Il peut "
            "vous envoyer une ordonnance ou un compte rendu.",
            "Vous parlez à un médecin en vidéo. Avant, vous pouvez faire des mesures. "
            "Le médecin les voit.",
        ),
    ),
    InformationItem(
        InformationTopic.ALTERNATIVES,
        Message("info.alternatives.title", "Vous pouvez aussi consulter en présentiel"),
        Message(
            "info.alternatives.body",
            "La téléconsultation n'est pas obligatoire. Vous pouvez consulter un médecin en "
            "face à face : votre médecin traitant, ou un des lieux de consultation proches "
            "affichés à l'écran. Le médecin peut aussi vous demander de consulter en "
            "présentiel s'il estime que c'est nécessaire.",
            "Vous pouvez aussi voir un médecin en vrai. Les adresses proches sont à l'écran.",
        ),
    ),
    InformationItem(
        InformationTopic.ASSISTANCE,
        Message("info.assistance.title", "Vous pouvez être aidé"),
        Message(
            "info.assistance.body",
            "Un professionnel de santé du lieu (pharmacien, infirmier) peut vous aider à "
            "utiliser les appareils de mesure et rester près de vous pendant la "
            "consultation, si vous le souhaitez. Vous choisissez.",
            "Un pharmacien ou un infirmier peut vous aider, si vous voulez.",
        ),
    ),
    InformationItem(
        InformationTopic.CONFIDENTIALITY,
        Message("info.confidentiality.title", "Ce que vous dites reste confidentiel"),
        Message(
            "info.confidentiality.body",
            "L'échange avec le médecin est chiffré et n'est pas enregistré par la cabine. "
            "Le médecin est tenu au secret médical. La cabine est fermée pour que "
            "personne ne vous entende.",
            "Personne d'autre que le médecin ne voit ni n'entend la consultation.",
        ),
    ),
    InformationItem(
        InformationTopic.DATA_PROCESSING,
        Message("info.data-processing.title", "Ce que deviennent vos données"),
        Message(
            "info.data-processing.body",
            "Votre identité, vos mesures et votre consentement sont enregistrés pour la "
            "consultation et transmis au médecin et à son dossier, comme la loi le demande. "
            "Vous pouvez accéder à vos données, les faire corriger ou vous opposer à "
            "certains usages, en vous adressant à l'exploitant de la cabine.",
            "Vos informations servent à la consultation. Vous pouvez demander à les voir "
            "ou à les corriger.",
        ),
    ),
    InformationItem(
        InformationTopic.DATA_SECURITY,
        Message("info.data-security.title", "Vos données de santé sont protégées"),
        Message(
            "info.data-security.body",
            "Les données sont chiffrées dans la cabine et envoyées à un hébergeur certifié "
            "pour les données de santé. À la fin de la séance, tout est effacé de l'écran "
            "et de la mémoire de la cabine.",
            "Vos données sont protégées et effacées de la cabine à la fin.",
        ),
    ),
    InformationItem(
        InformationTopic.COST,
        Message("info.cost.title", "Combien cela coûte"),
        Message(
            "info.cost.body",
            "La téléconsultation est prise en charge par l'Assurance maladie aux mêmes "
            "conditions qu'une consultation au cabinet, si elle respecte le parcours de "
            "soins ; la cabine vous dira où vous en êtes. Le paiement se fait seulement "
            "après la consultation. Il peut rester une partie à votre charge, selon votre "
            "situation et votre complémentaire santé.",
            "Vous êtes remboursé comme au cabinet dans la plupart des cas. "
            "Vous payez seulement après la consultation.",
        ),
    ),
    InformationItem(
        InformationTopic.RIGHT_TO_REFUSE,
        Message("info.right-to-refuse.title", "Vous pouvez refuser ou arrêter à tout moment"),
        Message(
            "info.right-to-refuse.body",
            "Vous pouvez refuser la téléconsultation, et l'arrêter à tout moment avec le "
            "bouton « Arrêter ». Le médecin peut aussi l'arrêter s'il pense qu'elle n'est "
            "pas adaptée à votre état.",
            "Vous pouvez dire non, et arrêter quand vous voulez.",
        ),
        from_charter=False,
    ),
)


def charter_items() -> tuple[InformationItem, ...]:
    """The seven items the charte §1.3 requires."""
    return tuple(item for item in INFORMATION_ITEMS if item.from_charter)
