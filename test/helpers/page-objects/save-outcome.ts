/**
 * The status after a form is saved: "Saved to the outbox..." while it waits or is being
 * sent, "Sent to the server." once it went (English; French "Enregistré..."/"Envoyé...").
 */
export const SAVED =
  /Saved to the outbox|Sent to the server|Enregistré dans la boîte d'envoi|Envoyé au serveur/;
