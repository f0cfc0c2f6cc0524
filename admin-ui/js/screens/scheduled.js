// What is scheduled to be published or unpublished, and what ran: each refusal with its
// reason, each pending schedule with Cancel.

import { h, replace, when, badge } from '../dom.js';
import { gql } from '../api.js';
import { kindOfType } from '../kinds.js';
import { pageHeader, say, alertError } from '../ui.js';

const FIELDS = 'id action at state documentType documentId documentTitle outcome finishedAt createdBy { displayName }';

function row(schedule, onCancel) {
  const kind = kindOfType(schedule.documentType);
  const what = schedule.action === 'PUBLISH' ? 'Publish' : 'Unpublish';
  return h('tr', { dataset: { schedule: schedule.id } },
    h('td', {}, when(schedule.at)),
    h('td', {}, what),
    h('td', {}, schedule.documentTitle
      ? h('a', { href: `#/${kind.route}/${schedule.documentId}` }, schedule.documentTitle)
      : h('span', { class: 'muted' }, '(deleted)'), ' ', h('span', { class: 'muted' }, kind.one)),
    h('td', {}, badge(schedule.state)),
    h('td', {}, schedule.outcome && schedule.state !== 'DONE' ? schedule.outcome : ''),
    h('td', {}, schedule.createdBy?.displayName ?? ''),
    h('td', { class: 'row-actions' }, schedule.state === 'PENDING'
      ? h('button', { type: 'button', onclick: () => onCancel(schedule), 'aria-label': `Cancel: ${what.toLowerCase()} ${schedule.documentTitle ?? ''}` }, 'Cancel')
      : null));
}

function table(caption, schedules, onCancel) {
  return h('table', { class: 'list' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['When', 'What', 'Document', 'State', 'Outcome', 'Planned by', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, schedules.map((s) => row(s, onCancel))));
}

/** Shows the schedules. */
export async function scheduledScreen(main) {
  const data = await gql(`{ pending: schedules { ${FIELDS} } finished: schedules(filter: { state: [DONE, FAILED, CANCELLED] }, first: 50) { ${FIELDS} } }`);
  const cancel = async (schedule) => {
    try {
      await gql('mutation($id: ID!) { cancelSchedule(input: { id: $id }) { schedule { state } } }', { id: schedule.id });
      say('The schedule is cancelled.');
    } catch (error) {
      alertError(error.message);
    }
    await scheduledScreen(main);
  };
  const finished = [...data.finished].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  replace(main,
    pageHeader('Scheduled'),
    h('p', {}, 'Schedules are set from a document’s editor (“Schedule…”). Each runs once at its time, on one server; what could not be published then is listed below with the reason.'),
    data.pending.length === 0 ? h('p', { class: 'empty' }, 'Nothing is scheduled.') : table('Pending', data.pending, cancel),
    finished.length === 0 ? null : table('Ran or cancelled', finished, cancel));
}
