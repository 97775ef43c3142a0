/**
 * fieldsim's own texts on an application form (validation, what happened to the form),
 * in the languages fieldsim speaks: English and French. They follow the language chosen
 * for the application's labels, so a French form does not answer in English (issue 13).
 * The application's own texts (labels, choices) come from the app, not from here.
 */
export interface Messages {
  required: (label: string) => string;
  wholeNumber: (label: string) => string;
  number: (label: string) => string;
  date: (label: string) => string;
  chooseOption: (label: string) => string;
  /** A rule fieldsim knows but has no sentence for here. */
  invalid: (label: string) => string;
  checkMarked: (count: number) => string;
  chooseCase: string;
  chooseParent: string;
  savedIncomplete: string;
  saveOutcome: { saved: string; sending: string; sent: string; 'set-aside': string };
  openCase: string;
  saveForm: string;
  saveIncomplete: string;
}

const en: Messages = {
  required: (l) => `${l} is required.`,
  wholeNumber: (l) => `${l} must be a whole number.`,
  number: (l) => `${l} must be a number.`,
  date: (l) => `${l} must be a date (YYYY-MM-DD).`,
  chooseOption: (l) => `Choose one of the options for ${l}.`,
  invalid: (l) => `Check the answer to ${l}.`,
  checkMarked: (n) => (n === 1 ? 'Check the answer marked below.' : 'Check the answers marked below.'),
  chooseCase: 'Choose the case first.',
  chooseParent: 'Choose the parent case first.',
  savedIncomplete: 'Saved as incomplete. Resume it from the Outbox.',
  saveOutcome: {
    saved: 'Saved to the outbox; it is sent when the device is online.',
    sending: 'Saved to the outbox; sending now…',
    sent: 'Sent to the server.',
    'set-aside': 'Saved to the outbox, but the server could not take it: it is set aside (see the Outbox).',
  },
  openCase: 'Open the case',
  saveForm: 'Save form',
  saveIncomplete: 'Save incomplete',
};

const fr: Messages = {
  required: (l) => `${l} : réponse obligatoire.`,
  wholeNumber: (l) => `${l} : saisissez un nombre entier.`,
  number: (l) => `${l} : saisissez un nombre.`,
  date: (l) => `${l} : saisissez une date (AAAA-MM-JJ).`,
  chooseOption: (l) => `${l} : choisissez une des options.`,
  invalid: (l) => `${l} : vérifiez la réponse.`,
  checkMarked: (n) =>
    n === 1 ? 'Vérifiez la réponse signalée ci-dessous.' : 'Vérifiez les réponses signalées ci-dessous.',
  chooseCase: "Choisissez d'abord le cas.",
  chooseParent: "Choisissez d'abord le cas parent.",
  savedIncomplete: "Enregistré comme incomplet. Reprenez-le depuis la boîte d'envoi.",
  saveOutcome: {
    saved: "Enregistré dans la boîte d'envoi ; il sera envoyé dès que l'appareil sera en ligne.",
    sending: "Enregistré dans la boîte d'envoi ; envoi en cours…",
    sent: 'Envoyé au serveur.',
    'set-aside':
      "Enregistré dans la boîte d'envoi, mais le serveur ne l'a pas accepté : il est mis de côté (voir la boîte d'envoi).",
  },
  openCase: 'Ouvrir le cas',
  saveForm: 'Enregistrer le formulaire',
  saveIncomplete: 'Enregistrer comme incomplet',
};

const CATALOG: Record<string, Messages> = { en, fr };

/** The messages for a language tag: exact, then its primary subtag (`fr-CA` -> `fr`), else English. */
export function messagesFor(lang: string): Messages {
  const tag = lang.toLowerCase();
  return CATALOG[tag] ?? CATALOG[tag.split('-')[0] ?? ''] ?? en;
}
