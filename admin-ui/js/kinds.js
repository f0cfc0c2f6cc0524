// The three kinds of documents, and how the API names each.

// Every status; topics go through the medical review (IN_REVIEW, APPROVED), the others
// publish without one (each kind's `statuses`).
export const STATUSES = ['DRAFT', 'IN_REVIEW', 'APPROVED', 'PUBLISHED', 'ARCHIVED'];
const UNREVIEWED = ['DRAFT', 'PUBLISHED', 'ARCHIVED'];
export const ROLES = [['EDITOR', 'editor'], ['REVIEWER', 'reviewer'], ['ADMIN', 'administrator']];
export const FREQUENCIES = ['COMMON', 'UNCOMMON', 'RARE'];
export const SEVERITIES = ['MILD', 'MODERATE', 'SEVERE'];
export const DURATIONS = ['TEMPORARY', 'PERSISTENT'];

export const KINDS = {
  topics: {
    route: 'topics', label: 'Topics', one: 'topic', type: 'TOPIC', list: 'topics', single: 'topic',
    labelField: 'title', orderFields: [['TITLE', 'Title'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'Topic', payload: 'topic', statuses: STATUSES,
  },
  conditions: {
    route: 'conditions', label: 'Conditions', one: 'condition', type: 'CONDITION', list: 'conditions', single: 'condition',
    labelField: 'name', orderFields: [['NAME', 'Name'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'Condition', payload: 'condition', statuses: UNREVIEWED,
  },
  'side-effects': {
    route: 'side-effects', label: 'Side effects', one: 'side effect', type: 'SIDE_EFFECT', list: 'sideEffects', single: 'sideEffect',
    labelField: 'name', orderFields: [['NAME', 'Name'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'SideEffect', payload: 'sideEffect', statuses: UNREVIEWED,
  },
};

/** The kind for a revision's DocumentType. */
export function kindOfType(type) {
  return Object.values(KINDS).find((k) => k.type === type);
}

/** `COMMON` -> `common`. */
export function words(value) {
  return String(value || '').toLowerCase().replace(/_/g, ' ');
}
