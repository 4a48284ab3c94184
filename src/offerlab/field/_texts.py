"""The survey's own words (buttons, hints, error messages) in the four languages."""

from __future__ import annotations

__all__ = ["LANGUAGE_NAMES", "ui"]

LANGUAGE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}

_TEXTS: dict[str, dict[str, str]] = {
    "next": {"de": "Weiter", "fr": "Continuer", "it": "Avanti", "en": "Next"},
    "finish": {"de": "Abschliessen", "fr": "Terminer", "it": "Concludi", "en": "Finish"},
    "progress": {
        "de": "Fortschritt: {percent} %",
        "fr": "Progression : {percent} %",
        "it": "Avanzamento: {percent} %",
        "en": "Progress: {percent}%",
    },
    "language": {"de": "Sprache", "fr": "Langue", "it": "Lingua", "en": "Language"},
    "task_of": {
        "de": "Auswahl {n} von {total}",
        "fr": "Choix {n} sur {total}",
        "it": "Scelta {n} di {total}",
        "en": "Choice {n} of {total}",
    },
    "option": {"de": "Angebot {n}", "fr": "Offre {n}", "it": "Offerta {n}", "en": "Offer {n}"},
    "choose_this": {
        "de": "Dieses wählen",
        "fr": "Choisir celle-ci",
        "it": "Scegli questa",
        "en": "Choose this",
    },
    "same_for_all": {
        "de": "bei allen gleich",
        "fr": "identique partout",
        "it": "uguale per tutte",
        "en": "same for all",
    },
    "yes": {"de": "Ja", "fr": "Oui", "it": "Sì", "en": "Yes"},
    "no": {"de": "Nein", "fr": "Non", "it": "No", "en": "No"},
    "please_specify": {
        "de": "Bitte angeben",
        "fr": "Veuillez préciser",
        "it": "Specificare",
        "en": "Please specify",
    },
    "err_choose": {
        "de": "Bitte wählen Sie eine Antwort.",
        "fr": "Veuillez choisir une réponse.",
        "it": "Scegliete una risposta.",
        "en": "Please choose an answer.",
    },
    "err_unknown": {
        "de": "Diese Antwort gibt es hier nicht.",
        "fr": "Cette réponse n'existe pas ici.",
        "it": "Questa risposta non esiste qui.",
        "en": "That answer is not one of the options.",
    },
    "err_at_least": {
        "de": "Bitte wählen Sie mindestens {n}.",
        "fr": "Veuillez en choisir au moins {n}.",
        "it": "Sceglietene almeno {n}.",
        "en": "Please choose at least {n}.",
    },
    "err_at_most": {
        "de": "Bitte wählen Sie höchstens {n}.",
        "fr": "Veuillez en choisir au plus {n}.",
        "it": "Sceglietene al massimo {n}.",
        "en": "Please choose at most {n}.",
    },
    "err_exclusive": {
        "de": "«{label}» lässt sich nicht mit anderen Antworten kombinieren.",
        "fr": "« {label} » ne peut pas être combiné avec d'autres réponses.",
        "it": "«{label}» non si può combinare con altre risposte.",
        "en": "“{label}” cannot be combined with other answers.",
    },
    "err_open": {
        "de": "Bitte beschreiben Sie «{label}».",
        "fr": "Veuillez préciser « {label} ».",
        "it": "Specificate «{label}».",
        "en": "Please describe “{label}”.",
    },
    "err_items": {
        "de": "Bitte bewerten Sie jede Zeile.",
        "fr": "Veuillez évaluer chaque ligne.",
        "it": "Valutate ogni riga.",
        "en": "Please rate every line.",
    },
    "err_number": {
        "de": "Bitte geben Sie eine ganze Zahl von {min} bis {max} ein.",
        "fr": "Veuillez saisir un nombre entier de {min} à {max}.",
        "it": "Inserite un numero intero da {min} a {max}.",
        "en": "Please enter a whole number from {min} to {max}.",
    },
    "err_too_long": {
        "de": "Bitte höchstens {n} Zeichen.",
        "fr": "Au maximum {n} caractères, s'il vous plaît.",
        "it": "Al massimo {n} caratteri, per favore.",
        "en": "Please use at most {n} characters.",
    },
    "err_required": {
        "de": "Bitte füllen Sie dieses Feld aus.",
        "fr": "Veuillez remplir ce champ.",
        "it": "Compilate questo campo.",
        "en": "Please fill in this field.",
    },
    "err_price_order": {
        "de": "Die Preise sollten von Frage zu Frage steigen (oder gleich bleiben).",
        "fr": "Les prix devraient augmenter d'une question à l'autre (ou rester égaux).",
        "it": "I prezzi dovrebbero salire da una domanda all'altra (o restare uguali).",
        "en": "The prices should rise from one question to the next (or stay the same).",
    },
    "err_would_buy": {
        "de": "Bitte sagen Sie, ob Sie dieses Angebot abschliessen würden.",
        "fr": "Veuillez indiquer si vous prendriez cette offre.",
        "it": "Indicate se sottoscrivereste questa offerta.",
        "en": "Please say whether you would take this offer.",
    },
    "err_maxdiff_both": {
        "de": "Bitte wählen Sie je einen Punkt als am wichtigsten und als am wenigsten wichtig.",
        "fr": "Veuillez choisir un point comme le plus important et un comme le moins important.",
        "it": "Scegliete un punto come il più importante e uno come il meno importante.",
        "en": "Please pick one item as most and one as least important.",
    },
    "err_maxdiff_same": {
        "de": "Ein Punkt kann nicht zugleich am wichtigsten und am wenigsten wichtig sein.",
        "fr": "Un même point ne peut pas être à la fois le plus et le moins important.",
        "it": "Lo stesso punto non può essere insieme il più e il meno importante.",
        "en": "One item cannot be both the most and the least important.",
    },
    "screen_of": {
        "de": "{n} von {total}",
        "fr": "{n} sur {total}",
        "it": "{n} di {total}",
        "en": "{n} of {total}",
    },
    "concept_of": {
        "de": "Konzept {n} von {total}",
        "fr": "Concept {n} sur {total}",
        "it": "Concetto {n} di {total}",
        "en": "Concept {n} of {total}",
    },
    "kano_like": {
        "de": "Das würde mich sehr freuen",
        "fr": "Cela me plairait beaucoup",
        "it": "Mi piacerebbe molto",
        "en": "I would like it",
    },
    "kano_expect": {
        "de": "Das setze ich voraus",
        "fr": "Cela va de soi pour moi",
        "it": "Lo do per scontato",
        "en": "I expect it",
    },
    "kano_neutral": {
        "de": "Das ist mir egal",
        "fr": "Cela m'est égal",
        "it": "Mi è indifferente",
        "en": "I am neutral",
    },
    "kano_tolerate": {
        "de": "Das könnte ich hinnehmen",
        "fr": "Je pourrais m'en accommoder",
        "it": "Potrei accettarlo",
        "en": "I can live with it",
    },
    "kano_dislike": {
        "de": "Das würde mich sehr stören",
        "fr": "Cela me dérangerait beaucoup",
        "it": "Mi darebbe molto fastidio",
        "en": "I would dislike it",
    },
    "concept_appeal": {
        "de": "Wie gefällt Ihnen dieses Angebot insgesamt?",
        "fr": "Dans l'ensemble, cette offre vous plaît-elle ?",
        "it": "Nel complesso, quanto vi piace questa offerta?",
        "en": "Overall, how much do you like this offer?",
    },
    "concept_appeal_low": {
        "de": "gar nicht",
        "fr": "pas du tout",
        "it": "per niente",
        "en": "not at all",
    },
    "concept_appeal_high": {
        "de": "sehr gut",
        "fr": "beaucoup",
        "it": "moltissimo",
        "en": "very much",
    },
    "concept_intent": {
        "de": "Würden Sie dieses Angebot abschliessen?",
        "fr": "Souscririez-vous à cette offre ?",
        "it": "Sottoscrivereste questa offerta?",
        "en": "Would you take up this offer?",
    },
    "concept_intent_low": {
        "de": "bestimmt nicht",
        "fr": "certainement pas",
        "it": "sicuramente no",
        "en": "definitely not",
    },
    "concept_intent_high": {
        "de": "bestimmt",
        "fr": "certainement",
        "it": "sicuramente sì",
        "en": "definitely",
    },
    "concept_uniqueness": {
        "de": "Wie neu und anders ist dieses Angebot?",
        "fr": "Cette offre est-elle nouvelle et différente ?",
        "it": "Quanto è nuova e diversa questa offerta?",
        "en": "How new and different is this offer?",
    },
    "concept_uniqueness_low": {
        "de": "gar nicht",
        "fr": "pas du tout",
        "it": "per niente",
        "en": "not at all",
    },
    "concept_uniqueness_high": {
        "de": "sehr",
        "fr": "tout à fait",
        "it": "moltissimo",
        "en": "very",
    },
    "concept_believability": {
        "de": "Wie glaubwürdig ist dieses Angebot?",
        "fr": "Cette offre est-elle crédible ?",
        "it": "Quanto è credibile questa offerta?",
        "en": "How believable is this offer?",
    },
    "concept_believability_low": {
        "de": "gar nicht",
        "fr": "pas du tout",
        "it": "per niente",
        "en": "not at all",
    },
    "concept_believability_high": {
        "de": "sehr",
        "fr": "tout à fait",
        "it": "moltissimo",
        "en": "very",
    },
    "concept_value": {
        "de": "Wie ist das Preis-Leistungs-Verhältnis?",
        "fr": "Que vaut cette offre pour son prix ?",
        "it": "Com'è il rapporto qualità-prezzo?",
        "en": "How good is the value for money?",
    },
    "concept_value_low": {
        "de": "sehr schlecht",
        "fr": "très mauvais",
        "it": "pessimo",
        "en": "very poor",
    },
    "concept_value_high": {"de": "sehr gut", "fr": "très bon", "it": "ottimo", "en": "very good"},
    "concept_change": {
        "de": "Was würden Sie an diesem Angebot ändern? (freiwillig)",
        "fr": "Que changeriez-vous à cette offre ? (facultatif)",
        "it": "Che cosa cambiereste di questa offerta? (facoltativo)",
        "en": "What would you change about this offer? (optional)",
    },
    "err_stale": {
        "de": "Diese Seite ist nicht mehr aktuell. Sie fahren dort weiter, wo Sie waren.",
        "fr": "Cette page n'est plus à jour. Vous reprenez là où vous étiez.",
        "it": "Questa pagina non è più attuale. Riprendete da dove eravate.",
        "en": "This page is out of date. You continue where you were.",
    },
    "continue": {
        "de": "Weiter zur Umfrage",
        "fr": "Continuer le sondage",
        "it": "Continua il sondaggio",
        "en": "Continue the survey",
    },
    "paused": {
        "de": "Die Umfrage ist im Moment pausiert. Bitte versuchen Sie es später wieder.",
        "fr": "Le sondage est en pause. Veuillez réessayer plus tard.",
        "it": "Il sondaggio è in pausa. Riprovate più tardi.",
        "en": "The survey is paused at the moment. Please try again later.",
    },
    "closed": {
        "de": "Die Umfrage ist abgeschlossen. Vielen Dank für Ihr Interesse.",
        "fr": "Le sondage est terminé. Merci de votre intérêt.",
        "it": "Il sondaggio è chiuso. Grazie per l'interesse.",
        "en": "The survey has closed. Thank you for your interest.",
    },
    "paused_inside": {
        "de": "Die Umfrage ist im Moment pausiert. Ihre bisherigen Antworten sind gespeichert; "
        "Sie können weitermachen, sobald sie wieder läuft.",
        "fr": "Le sondage est en pause. Vos réponses sont enregistrées ; vous pourrez "
        "continuer dès sa reprise.",
        "it": "Il sondaggio è in pausa. Le vostre risposte sono salvate; potrete "
        "continuare appena riprende.",
        "en": "The survey is paused at the moment. Your answers so far are saved; you can "
        "continue as soon as it resumes.",
    },
    "closed_inside": {
        "de": "Die Umfrage ist abgeschlossen; weitere Antworten werden nicht mehr gespeichert. "
        "Vielen Dank für Ihre Teilnahme.",
        "fr": "Le sondage est terminé ; les réponses ne sont plus enregistrées. "
        "Merci de votre participation.",
        "it": "Il sondaggio è chiuso; le risposte non vengono più salvate. "
        "Grazie per la partecipazione.",
        "en": "The survey has closed; answers are no longer saved. Thank you for taking part.",
    },
    "not_open": {
        "de": "Die Umfrage ist noch nicht geöffnet. Bitte versuchen Sie es später wieder.",
        "fr": "Le sondage n'est pas encore ouvert. Veuillez réessayer plus tard.",
        "it": "Il sondaggio non è ancora aperto. Riprovate più tardi.",
        "en": "The survey is not open yet. Please try again later.",
    },
    "start": {
        "de": "Willkommen zur Umfrage.",
        "fr": "Bienvenue dans ce sondage.",
        "it": "Benvenuti al sondaggio.",
        "en": "Welcome to the survey.",
    },
    "not_found": {
        "de": "Dieser Link ist ungültig.",
        "fr": "Ce lien n'est pas valable.",
        "it": "Questo link non è valido.",
        "en": "This link is not valid.",
    },
    "back_to_panel": {
        "de": "Zurück zum Panel",
        "fr": "Retour au panel",
        "it": "Torna al panel",
        "en": "Back to the panel",
    },
    "price_currency": {
        "de": "{currency}",
        "fr": "{currency}",
        "it": "{currency}",
        "en": "{currency}",
    },
}


def ui(key: str, language: str, **values: object) -> str:
    """One of the survey's own texts in ``language``, with ``{placeholders}`` filled."""
    entry = _TEXTS[key]
    return entry.get(language, entry["en"]).format(**values)
