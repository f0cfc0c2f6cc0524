// The media library in the admin UI: files dropped or chosen wait for their alt text, upload
// with a progress bar, can be described, searched and deleted; the topic editor picks a hero
// image from the library, which makes it public; an image published content uses stays.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { withServer, newPage, api, adminToken, signIn, screenshot } from './harness.mjs';

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = (crc & 1) ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A `width` x `height` RGB PNG: a gradient, so it is a real picture. */
function png(width, height) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x += 1) row.set([(x * 255) / width, (y * 255) / height, 120], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

test('the media library uploads, describes and deletes; the editor picks a hero image and puts images in the body', () => withServer('media', {}, async (server, browser) => {
  const token = await adminToken(server);
  const page = await newPage(browser, server);
  await signIn(page, 'admin@example.org');
  await page.getByRole('link', { name: 'Media' }).click();
  await page.getByRole('heading', { name: 'Media', level: 1 }).waitFor();
  await page.getByText('0 items').waitFor();

  // Two files chosen at once: each waits for its description.
  await page.locator('.drop-zone input[type=file]').setInputFiles([
    { name: 'roller.png', mimeType: 'image/png', buffer: png(900, 600) },
    { name: 'aftercare.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  const photo = page.locator('[data-file="roller.png"]');
  const leaflet = page.locator('[data-file="aftercare.pdf"]');
  assert.equal(await photo.getByRole('progressbar').count(), 1, 'a progress bar per upload');
  // An image without alt text is refused, said by the field, and nothing is lost.
  await photo.getByRole('button', { name: 'Upload' }).click();
  await photo.getByRole('alert').filter({ hasText: /required/i }).waitFor();
  assert.equal(await photo.getByLabel('Alt text').getAttribute('aria-invalid'), 'true');
  await photo.getByLabel('Alt text').fill('A dermaroller on the forearm');
  await photo.getByRole('button', { name: 'Upload' }).click();
  await page.locator('.media-card', { hasText: 'A dermaroller on the forearm' }).waitFor();
  await leaflet.getByRole('button', { name: 'Upload' }).click();
  await page.locator('.media-card', { hasText: 'aftercare.pdf' }).waitFor();
  await page.getByText('2 items').waitFor();
  // The card shows the image through its smallest variant, which loads.
  const thumb = page.locator('.media-card img[alt="A dermaroller on the forearm"]');
  await thumb.waitFor();
  assert.match(await thumb.getAttribute('src'), /\/media\/[0-9a-f]{64}\/320\.webp\?expires=/);
  assert.ok(await thumb.evaluate((img) => img.complete && img.naturalWidth === 320), 'the variant loads in the page');

  // Describe: a caption, saved with its version.
  await page.getByRole('button', { name: 'Describe roller.png' }).click();
  const panel = page.getByRole('dialog', { name: 'Describe roller.png' });
  await panel.getByText('Nothing uses it yet.').waitFor();
  await panel.getByLabel('Caption', { exact: true }).fill('Before the first session');
  await panel.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  const stored = (await api(server, '{ media(search: "dermaroller") { items { id caption version } } }', {}, token)).data.media.items;
  assert.deepEqual(stored.map((i) => [i.caption, i.version]), [['Before the first session', 2]]);

  // Search, applied on Enter.
  await page.getByLabel('Search the media library').fill('aftercare');
  await page.getByLabel('Search the media library').press('Enter');
  await page.getByText('1 item', { exact: true }).waitFor();
  assert.equal(await page.locator('.media-card').count(), 1);

  // The topic editor picks the image as the hero image.
  const topic = (await api(server, '{ topic(slug: "microneedling") { id } }')).data.topic;
  await page.evaluate((id) => { location.hash = `#/topics/${id}`; }, topic.id);
  await page.getByText('No hero image.').waitFor();
  await page.getByRole('button', { name: 'Choose image…' }).click();
  const picker = page.getByRole('dialog', { name: 'Choose an image' });
  await picker.getByRole('button', { name: 'Use A dermaroller on the forearm' }).click();
  await page.locator('.hero-preview', { hasText: 'A dermaroller on the forearm' }).waitFor();
  // And into the body where the cursor is; the preview shows it as the public will get it.
  const body = page.getByLabel('Body (Markdown)');
  await body.evaluate((el) => { el.focus(); el.setSelectionRange(el.value.length, el.value.length); });
  await page.getByRole('button', { name: 'Insert image…' }).click();
  await picker.getByRole('button', { name: 'Use A dermaroller on the forearm' }).click();
  assert.match(await body.inputValue(), new RegExp(`\\n\\n!\\[\\]\\(media:${stored[0].id}\\)\\n$`));
  const inPreview = page.locator('.preview img[alt="A dermaroller on the forearm"]');
  await inPreview.waitFor();
  assert.equal(await inPreview.getAttribute('width'), '900');
  assert.match(await inPreview.getAttribute('srcset'), /320\.webp\?expires=\d+&signature=\w+ 320w/);
  await page.waitForFunction(() => {
    const img = document.querySelector('.preview img');
    return img && img.complete && img.naturalWidth > 0;
  });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/Saved version \d+\./).waitFor();
  const hero = (await api(server, '{ topic(slug: "microneedling") { image { alt url width srcset } } }')).data.topic.image;
  assert.equal(hero.alt, 'A dermaroller on the forearm');
  assert.equal(hero.width, 900);
  assert.match(hero.srcset, /320\.webp 320w, .*640\.webp 640w, .*900\.webp 900w$/);
  const bodyHtml = (await api(server, '{ topic(slug: "microneedling") { bodyHtml } }')).data.topic.bodyHtml;
  assert.ok(bodyHtml.includes(`<img src="${hero.url}" width="900" height="600"`), bodyHtml.slice(-600));
  const served = await fetch(`${server.base}${hero.url}`);
  assert.equal(served.status, 200, 'public once published content uses it');
  assert.match(served.headers.get('cache-control'), /immutable/);

  // Published content uses it: deleting it is refused with the reason.
  await page.evaluate(() => { location.hash = '#/media'; });
  await page.getByRole('button', { name: 'Delete roller.png' }).click();
  await page.getByRole('dialog', { name: 'Delete roller.png?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alert').filter({ hasText: /published content uses this media item \(microneedling\)/ }).waitFor();
  assert.equal(await page.locator('.media-card', { hasText: 'roller.png' }).count(), 1);
  // The PDF goes.
  await page.getByRole('button', { name: 'Delete aftercare.pdf' }).click();
  await page.getByRole('dialog', { name: 'Delete aftercare.pdf?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByText('Deleted aftercare.pdf.').waitFor();
  assert.equal(await page.locator('.media-card').count(), 1);
  await screenshot(page, 'media-library');
  assert.deepEqual(page.problems, []);
}));
