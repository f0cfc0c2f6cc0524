// The three kinds of documents, and how the API names each.

export const STATUSES = ['DRAFT', 'PUBLISHED', 'ARCHIVED'];
export const FREQUENCIES = ['COMMON', 'UNCOMMON', 'RARE'];
export const SEVERITIES = ['MILD', 'MODERATE', 'SEVERE'];
export const DURATIONS = ['TEMPORARY', 'PERSISTENT'];

export const KINDS = {
  topics: {
    route: 'topics', label: 'Topics', one: 'topic', type: 'TOPIC', list: 'topics', single: 'topic',
    labelField: 'title', orderFields: [['TITLE', 'Title'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'Topic', payload: 'topic',
  },
  conditions: {
    route: 'conditions', label: 'Conditions', one: 'condition', type: 'CONDITION', list: 'conditions', single: 'condition',
    labelField: 'name', orderFields: [['NAME', 'Name'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'Condition', payload: 'condition',
  },
  'side-effects': {
    route: 'side-effects', label: 'Side effects', one: 'side effect', type: 'SIDE_EFFECT', list: 'sideEffects', single: 'sideEffect',
    labelField: 'name', orderFields: [['NAME', 'Name'], ['UPDATED_AT', 'Last edited'], ['PUBLISHED_AT', 'Published']],
    mutation: 'SideEffect', payload: 'sideEffect',
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
