/**
 * Why a form was set aside (issue 4): the server's processing failed (`processing-failure`,
 * HQ 422 / 201 submit_error), it was too large (413 or our own limit check), the server
 * rejected it otherwise (other permanent 4xx), it conflicts with a different form holding
 * the same instanceID (ODK 409), or a person quarantined it by hand.
 */
export type QuarantineReason = 'processing-failure' | 'too-large' | 'rejected' | 'conflict' | 'manual';
