// The media library: upload images and files (drag and drop, or choose), describe them, see
// where they are used, delete them; and the image picker the topic editor opens.

import { h, replace, append, field } from '../dom.js';
import { gql, upload } from '../api.js';
import { pageHeader, say, alertError, dialog, formDialog } from '../ui.js';

/** What the admin reads of a media item. */
export const MEDIA_FIELDS = 'id url kind mimeType width height dominantColor alt caption filename byteSize version createdAt variants { width url }';

const LIST = `query($search: String, $after: ID, $first: Int!) { media(search: $search, after: $after, first: $first) { totalCount nextCursor items { ${MEDIA_FIELDS} } } }`;

/** The smallest address that shows `item`: its narrowest variant for a still image. */
export function thumbnail(item) {
  return item.variants?.[0]?.url ?? item.url;
}

function size(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** The picture (or a file's label) of `item`, `width` pixels wide at most. */
export function picture(item, width = 160) {
  if (item.kind !== 'IMAGE') return h('div', { class: 'file-badge', 'aria-hidden': 'true' }, item.mimeType === 'application/pdf' ? 'PDF' : 'File');
  const height = Math.round((item.height / item.width) * width);
  const img = h('img', { src: thumbnail(item), alt: item.alt, width, height, loading: 'lazy' });
  // The placeholder colour while it loads; set through the CSSOM, which the admin's CSP
  // (no inline styles) allows.
  if (item.dominantColor) img.style.backgroundColor = item.dominantColor;
  return img;
}

/** Uploads `file` with its description; `bar` (a progress element) follows it. */
export async function uploadFile(file, alt, caption, bar) {
  const data = await upload(`mutation($input: UploadMediaInput!) { uploadMedia(input: $input) { media { ${MEDIA_FIELDS} } } }`,
    { input: { file: null, alt, caption } }, 'variables.input.file', file, (fraction) => { bar.value = fraction; });
  return data.uploadMedia.media;
}

/**
 * A chosen file waiting for its description: alt text (required for images, which the server
 * judges from the bytes), a caption, Upload with a progress bar, and Remove.
 */
function pendingUpload(file, onDone) {
  const alt = h('input', { name: 'alt', maxlength: 1000 });
  const caption = h('input', { name: 'caption', maxlength: 2000 });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `Upload of ${file.name}` });
  const problem = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const send = h('button', { type: 'button', class: 'primary' }, 'Upload');
  const row = h('li', { class: 'pending-upload card', dataset: { file: file.name } },
    h('p', {}, h('strong', {}, file.name), ' ', h('span', { class: 'muted' }, size(file.size))),
    h('div', { class: 'grid-2' },
      field('Alt text', alt, { hint: 'What the image shows, for people who cannot see it. Required for images.' }),
      field('Caption (optional)', caption)),
    h('div', { class: 'actions' }, bar, h('button', { type: 'button', onclick: () => row.remove() }, 'Remove'), send),
    problem);
  send.addEventListener('click', async () => {
    send.disabled = true;
    send.textContent = 'Uploading…';
    problem.hidden = true;
    alt.removeAttribute('aria-invalid');
    try {
      const item = await uploadFile(file, alt.value, caption.value, bar);
      row.remove();
      onDone(item);
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      bar.value = 0;
      if (error.field === 'input.alt') {
        alt.setAttribute('aria-invalid', 'true');
        alt.focus();
      }
    } finally {
      send.disabled = false;
      send.textContent = 'Upload';
    }
  });
  return { row, focus: () => alt.focus() };
}

/** A drop zone with a file chooser; `onFiles(files)` gets what is dropped or chosen. */
function dropZone(onFiles, { multiple = true, label = 'Drop images or PDFs here, or choose files' } = {}) {
  const input = h('input', { type: 'file', multiple, accept: 'image/jpeg,image/png,image/webp,image/avif,image/gif,application/pdf', class: 'visually-hidden' });
  input.addEventListener('change', () => {
    onFiles([...input.files]);
    input.value = '';
  });
  const zone = h('label', { class: 'drop-zone' }, input, h('span', {}, label), h('span', { class: 'button-like' }, 'Choose files'));
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    onFiles([...event.dataTransfer.files]);
  });
  return zone;
}

/** Edits an item's alt text and caption in a side panel, showing where it is used. */
async function describe(item) {
  const used = (await gql('query($id: ID!) { mediaItem(id: $id) { usedBy { documentType id slug status } } }', { id: item.id })).mediaItem?.usedBy ?? [];
  const alt = h('textarea', { name: 'alt', rows: 2, maxlength: 1000 }, item.alt);
  const caption = h('textarea', { name: 'caption', rows: 2, maxlength: 2000 }, item.caption);
  let saved = null;
  const done = await formDialog({
    title: `Describe ${item.filename}`,
    body: [
      picture(item, 240),
      field('Alt text', alt, { hint: item.kind === 'IMAGE' ? 'Required for images.' : 'Optional for files.' }),
      field('Caption', caption),
      h('h3', {}, 'Used by'),
      used.length === 0
        ? h('p', { class: 'muted' }, 'Nothing uses it yet.')
        : h('ul', { class: 'used-by' }, used.map((u) => h('li', {}, h('a', { href: `#/topics/${u.id}` }, u.slug), ` (${u.status.toLowerCase()})`))),
    ],
    submitLabel: 'Save',
    cancelLabel: 'Close',
    focus: alt,
    panel: true,
    action: async () => {
      const data = await gql('mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { alt caption version } } }',
        { input: { id: item.id, expectedVersion: item.version, alt: alt.value, caption: caption.value } });
      saved = data.updateMedia.media;
    },
  });
  return done ? saved : null;
}

/** Shows the media library. */
export async function mediaScreen(main, query) {
  const search = query?.get('q') ?? '';
  const grid = h('ul', { class: 'media-grid' });
  const pending = h('ul', { class: 'pending-uploads' });
  const more = h('button', { type: 'button', hidden: true }, 'Show more');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  let total = 0;
  let after = null;

  const card = (item) => {
    const el = h('li', { class: 'media-card', dataset: { media: item.id } },
      picture(item),
      h('p', { class: 'media-alt' }, item.alt || item.filename),
      h('p', { class: 'muted' }, item.filename, ' · ', size(item.byteSize), item.width ? ` · ${item.width}×${item.height}` : ''),
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Describe ${item.filename}`, onclick: async () => {
          const saved = await describe(item);
          if (!saved) return;
          Object.assign(item, saved);
          el.replaceWith(card(item));
          say('Saved.');
        } }, 'Describe'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${item.filename}`, onclick: async () => {
          const sure = await dialog(`Delete ${item.filename}?`, [h('p', {}, 'Drafts that use it lose it. This cannot be undone.')],
            [{ label: 'Cancel', value: false }, { label: 'Delete', value: true, kind: 'danger' }]);
          if (!sure) return;
          try {
            await gql('mutation($id: ID!) { deleteMedia(input: { id: $id }) { media { id } } }', { id: item.id });
            el.remove();
            total -= 1;
            showCount();
            say(`Deleted ${item.filename}.`);
          } catch (error) {
            alertError(error.message);
          }
        } }, 'Delete')));
    return el;
  };
  const showCount = () => { count.textContent = total === 1 ? '1 item' : `${total} items`; };
  const load = async () => {
    const data = await gql(LIST, { search: search || null, after, first: 48 });
    total = data.media.totalCount;
    after = data.media.nextCursor;
    grid.append(...data.media.items.map(card));
    more.hidden = !after;
    showCount();
  };
  more.addEventListener('click', load);

  const addFiles = (files) => {
    for (const file of files) {
      const { row, focus } = pendingUpload(file, (item) => {
        grid.prepend(card(item));
        total += 1;
        showCount();
        say(`Uploaded ${item.filename}.`);
      });
      pending.append(row);
      focus();
    }
  };

  const searchInput = h('input', { type: 'search', name: 'q', value: search, 'aria-label': 'Search the media library', placeholder: 'File name, alt text or caption' });
  const searchForm = h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const q = searchInput.value.trim();
    location.hash = q ? `#/media?q=${encodeURIComponent(q)}` : '#/media';
  } }, searchInput, h('button', { type: 'submit' }, 'Search'));

  await load();
  replace(main,
    pageHeader('Media'),
    h('p', {}, 'Images are stored without their camera metadata (location, time, device) and turned upright; smaller copies are made for fast pages. An image is public once published content uses it.'),
    dropZone(addFiles),
    pending,
    searchForm,
    count,
    grid,
    more);
}

/**
 * Asks for an image: a searchable grid of the library's images, and an upload of a new one.
 * Resolves with the chosen item, or null.
 */
export function pickImage() {
  return new Promise((resolve) => {
    const grid = h('ul', { class: 'media-grid compact' });
    const pending = h('ul', { class: 'pending-uploads' });
    const el = h('dialog', { class: 'dialog side-panel', 'aria-labelledby': 'pick-image-title' });
    const finish = (value) => { el.close(); el.remove(); resolve(value); };
    const show = async (search) => {
      const data = await gql(LIST, { search: search || null, after: null, first: 48 });
      const images = data.media.items.filter((item) => item.kind === 'IMAGE');
      grid.replaceChildren(...images.map((item) => h('li', {},
        h('button', { type: 'button', class: 'pick', onclick: () => finish(item), 'aria-label': `Use ${item.alt || item.filename}` }, picture(item, 120)))));
      if (images.length === 0) grid.append(h('li', { class: 'muted' }, 'No images found.'));
    };
    const searchInput = h('input', { type: 'search', 'aria-label': 'Search images', placeholder: 'Search images' });
    const searchForm = h('form', { class: 'filters', role: 'search', onsubmit: (event) => { event.preventDefault(); show(searchInput.value.trim()); } },
      searchInput, h('button', { type: 'submit' }, 'Search'));
    append(el, [
      h('h2', { id: 'pick-image-title' }, 'Choose an image'),
      searchForm,
      grid,
      h('h3', {}, 'Or upload one'),
      dropZone((files) => {
        for (const file of files.slice(0, 1)) {
          const { row, focus } = pendingUpload(file, (item) => finish(item));
          pending.replaceChildren(row);
          focus();
        }
      }, { multiple: false, label: 'Drop an image here, or choose one' }),
      pending,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => finish(null) }, 'Cancel')),
    ]);
    el.addEventListener('cancel', (event) => { event.preventDefault(); finish(null); });
    document.body.append(el);
    el.showModal();
    searchInput.focus();
    show('').catch((error) => { grid.replaceChildren(h('li', { class: 'field-error' }, error.message)); });
  });
}
