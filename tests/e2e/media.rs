//! The media library over HTTP: uploads by the GraphQL multipart request spec, judged by
//! their bytes and limits, stored without metadata, served by content hash to whom may
//! see them, described, used as a topic's hero image, and deleted only when no published
//! content uses them.

use std::io::Cursor;

use dermis_tests::node::{NodeProcess, node_clients};
use dermis_tests::{Session, TestServer, header, on_both_databases, on_both_storages};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const UPLOAD: &str = "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) { media { id url kind mimeType width height dominantColor alt caption filename contentHash byteSize version } } }";
const MARKER: &[u8] = b"DERMIS-GPS-MARKER-48.8584N";

/// Sends `bytes` as `filename` (declared `content_type`) in a GraphQL multipart request.
async fn upload_as(
    server: &TestServer,
    token: Option<&str>,
    bytes: Vec<u8>,
    filename: &str,
    content_type: &str,
    alt: &str,
) -> (u16, Value) {
    let operations =
        json!({ "query": UPLOAD, "variables": { "input": { "file": null, "alt": alt } } });
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .expect("mime");
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part("0", part);
    let mut request = server.client.post(server.url("/graphql")).multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("upload sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

pub(crate) async fn upload(
    server: &TestServer,
    who: &Session,
    bytes: Vec<u8>,
    name: &str,
    alt: &str,
) -> Value {
    let (status, body) = upload_as(
        server,
        Some(&who.access),
        bytes,
        name,
        "application/octet-stream",
        alt,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["uploadMedia"]["media"].clone()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A 40 x 20 JPEG whose EXIF says "turn 90 degrees clockwise" and carries a GPS position
/// (a latitude, and a processing method holding `MARKER`).
fn photo_with_gps() -> Vec<u8> {
    let image = image::RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            image::Rgb([220, 30, 30])
        } else {
            image::Rgb([30, 30, 220])
        }
    });
    let mut jpeg = Cursor::new(Vec::new());
    image
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .expect("jpeg");
    let jpeg = jpeg.into_inner();
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend(tag.to_le_bytes());
        tiff.extend(kind.to_le_bytes());
        tiff.extend(count.to_le_bytes());
        tiff.extend(value);
    };
    // IFD0 at 8: orientation 6, the GPS IFD at 38.
    tiff.extend(2u16.to_le_bytes());
    entry(&mut tiff, 0x0112, 3, 1, [6, 0, 0, 0]);
    entry(&mut tiff, 0x8825, 4, 1, 38u32.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    // GPS IFD at 38: latitude ref, latitude (at 80), processing method (at 104).
    let method: Vec<u8> = [b"ASCII\0\0\0".as_slice(), MARKER].concat();
    tiff.extend(3u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, [b'N', 0, 0, 0]);
    entry(&mut tiff, 0x0002, 5, 3, 80u32.to_le_bytes());
    entry(
        &mut tiff,
        0x001B,
        7,
        method.len() as u32,
        104u32.to_le_bytes(),
    );
    tiff.extend(0u32.to_le_bytes());
    assert_eq!(tiff.len(), 80);
    for (numerator, denominator) in [(48u32, 1u32), (51, 1), (2950, 100)] {
        tiff.extend(numerator.to_le_bytes());
        tiff.extend(denominator.to_le_bytes());
    }
    tiff.extend(&method);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(&app1);
    out.extend(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The CRC of a PNG chunk (type and data).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header claims `width` x `height` pixels (a decompression bomb's
/// shape: decoding it would allocate for every claimed pixel).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8);
    // Signature (8), IHDR length (4), "IHDR" at 12, data at 16..29, CRC at 29..33.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

async fn get(server: &TestServer, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = server.client.get(server.url(url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET sent")
}

/// The items in the library.
async fn total(server: &TestServer, who: &Session) -> i64 {
    server
        .query_as(who, "{ media { totalCount } }", json!({}))
        .await["media"]["totalCount"]
        .as_i64()
        .expect("count")
}

on_both_storages! {
    async fn a_photo_is_kept_upright_and_without_a_byte_of_its_metadata(backend, storage) {
        let server = TestServer::on(backend).storage(storage).start().await;
        let admin = server.first_admin().await;
        let original = photo_with_gps();
        assert!(contains(&original, MARKER));
        let item = upload(&server, &admin, original, "clinic/patient-before.jpg", "Forearm before treatment").await;
        assert_eq!(item["kind"], "IMAGE");
        assert_eq!(item["mimeType"], "image/jpeg");
        // Turned as the EXIF said: 40 x 20 stored sideways is 20 x 40 upright.
        assert_eq!((item["width"].as_i64(), item["height"].as_i64()), (Some(20), Some(40)), "{item}");
        assert_eq!(item["filename"], "patient-before.jpg");
        assert_eq!(item["alt"], "Forearm before treatment");
        assert!(item["dominantColor"].as_str().is_some_and(|c| c.len() == 7 && c.starts_with('#')), "{item}");

        let url = item["url"].as_str().expect("url");
        assert!(url.starts_with("/media/") && url.contains("signature="), "{url}");
        let response = get(&server, url, &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), "image/jpeg");
        assert_eq!(header(&response, "cache-control"), "private, max-age=3600");
        let served = response.bytes().await.expect("bytes").to_vec();
        assert_eq!(served.len() as i64, item["byteSize"].as_i64().expect("size"));
        assert_eq!(format!("{:x}", Sha256::digest(&served)), item["contentHash"].as_str().expect("hash"));
        assert!(!contains(&served, MARKER), "the GPS block was served");
        assert!(!contains(&served, b"Exif"), "an EXIF block was served");
        let latitude: Vec<u8> = [48u32, 1, 51, 1].iter().flat_map(|n| n.to_le_bytes()).collect();
        assert!(!contains(&served, &latitude), "the latitude was served");
        let decoded = image::load_from_memory(&served).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (20, 40));
        // The red half was on the left; turned clockwise, it is on top.
        let top = decoded.to_rgb8().get_pixel(10, 5).0;
        assert!(top[0] > 150 && top[2] < 100, "{top:?}");

        // Nothing of a draft's photo is public: not without the signature, not with a
        // signature of another object or a forged one.
        let plain = url.split('?').next().expect("path");
        assert_eq!(get(&server, plain, &[]).await.status(), 404);
        let forged = format!("{plain}?expires=9999999999&signature={}", "0".repeat(64));
        assert_eq!(get(&server, &forged, &[]).await.status(), 404);
        let query = url.split('?').nth(1).expect("query");
        let other = format!("/media/{}.jpg?{query}", "a".repeat(64));
        assert_eq!(get(&server, &other, &[]).await.status(), 404);
        // Its variants likewise: signed for the editor, nothing for the public.
        let variants = server.query_as(&admin, "query($id: ID!) { mediaItem(id: $id) { variants { width url } } }", json!({ "id": item["id"] })).await;
        let signed_variant = variants["mediaItem"]["variants"][0]["url"].as_str().expect("variant url");
        assert!(signed_variant.contains("/20.webp?"), "{variants}");
        let variant = get(&server, signed_variant, &[]).await.bytes().await.expect("variant").to_vec();
        assert!(!contains(&variant, MARKER) && !contains(&variant, b"Exif"));
        assert_eq!(get(&server, signed_variant.split('?').next().expect("path"), &[]).await.status(), 404);
        // Anonymous callers cannot list or read the library.
        let listed = server.query_error("{ media { totalCount } }", json!({})).await;
        assert_eq!(listed["extensions"]["code"], "UNAUTHENTICATED", "{listed}");
    }
}

on_both_storages! {
    async fn uploads_are_judged_by_their_bytes_and_limits_and_refusals_write_nothing(backend, storage) {
        let server = TestServer::on(backend)
            .storage(storage)
            .env("DERMIS_MEDIA_MAX_PIXELS", "250000")
            .env("DERMIS_MEDIA_MAX_BYTES", "300000")
            .start()
            .await;
        let admin = server.first_admin().await;
        let token = Some(admin.access.as_str());
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>"#.to_vec();
        let zip = b"PK\x03\x04\x14\0\0\0\x08\0rest of an archive".to_vec();
        let mut truncated = png(60, 60);
        truncated.truncate(60);
        let refusals: Vec<(&str, Vec<u8>, &str, &str)> = vec![
            ("SVG named .jpg", svg, "photo.jpg", "UNSUPPORTED_FILE_TYPE"),
            ("a zip", zip, "scan.pdf", "UNSUPPORTED_FILE_TYPE"),
            ("text", b"just words".to_vec(), "notes.png", "UNSUPPORTED_FILE_TYPE"),
            ("too many pixels", png(600, 500), "big.png", "MEDIA_TOO_LARGE"),
            ("a decompression bomb", png_claiming(100_000, 100_000), "bomb.png", "MEDIA_TOO_LARGE"),
            ("a damaged image", truncated, "cut.png", "BAD_USER_INPUT"),
        ];
        for (what, bytes, name, expected) in refusals {
            let (status, body) = upload_as(&server, token, bytes, name, "image/jpeg", "alt").await;
            assert_eq!(status, 200, "{what}: {body}");
            assert_eq!(code(&body), expected, "{what}: {body}");
            assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // Alt text is required for images, not for files.
        let (_, body) = upload_as(&server, token, png(10, 10), "a.png", "image/png", "  ").await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.alt");
        assert_eq!(total(&server, &admin).await, 0, "a refusal wrote something");
        assert_eq!(server.stored_media().await, Vec::<String>::new(), "a refusal stored a file");

        // The type comes from the bytes, whatever the name and declared type say.
        let (_, body) = upload_as(&server, token, png(10, 10), "notes.txt", "text/plain", "A square").await;
        assert_eq!(body["data"]["uploadMedia"]["media"]["mimeType"], "image/png", "{body}");
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
        let (_, body) = upload_as(&server, token, pdf.clone(), "consent.pdf", "application/pdf", "").await;
        let file = &body["data"]["uploadMedia"]["media"];
        assert_eq!((file["kind"].as_str(), file["mimeType"].as_str(), file["width"].as_i64()), (Some("FILE"), Some("application/pdf"), None), "{body}");
        let served = get(&server, file["url"].as_str().expect("url"), &[]).await.bytes().await.expect("pdf");
        assert_eq!(served.to_vec(), pdf, "a PDF is served as sent");
        assert_eq!(total(&server, &admin).await, 2);
        // The square's original and its one variant (its own width), and the PDF.
        assert_eq!(server.stored_media().await.len(), 3);

        // Over the byte limit: refused at the door (413), the server carries on.
        let (status, _) = upload_as(&server, token, vec![0x89; 400_000], "huge.png", "image/png", "alt").await;
        assert_eq!(status, 413);
        // Without credentials the body is not read.
        let (status, body) = upload_as(&server, None, png(10, 10), "a.png", "image/png", "alt").await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(code(&body), "UNAUTHENTICATED");
        // Malformed multipart requests are 400, not a crash.
        for form in [
            reqwest::multipart::Form::new().text("map", "{}"),
            reqwest::multipart::Form::new().text("operations", json!({ "query": UPLOAD }).to_string()),
            reqwest::multipart::Form::new()
                .text("operations", json!({ "query": UPLOAD, "variables": { "input": { "file": null } } }).to_string())
                .text("map", json!({ "0": ["variables.input.file"] }).to_string()),
        ] {
            let response = server.client.post(server.url("/graphql")).bearer_auth(&admin.access).multipart(form).send().await.expect("sent");
            assert_eq!(response.status(), 400);
        }
        // Sent as JSON, an upload variable names no file (async-graphql's own spelling of
        // one included): refused, and the server carries on.
        for file in [json!("#__graphql_file__:0"), json!("#__graphql_file__:7"), json!("#__graphql_file__:-1"), json!("#__graphql_file__:x"), json!("x")] {
            let (status, body) = server.post_as(token, &json!({ "query": UPLOAD, "variables": { "input": { "file": file, "alt": "a" } } })).await;
            assert_eq!(status, 200, "{body}");
            assert!(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"].contains(&code(&body)), "{body}");
        }
        // Or inline in the document (async-graphql's own scalar panicked on these).
        for file in ["#__graphql_file__:-1", "#__graphql_file__:", "#__graphql_file__:0"] {
            let document = format!("mutation {{ uploadMedia(input: {{ file: \"{file}\", alt: \"a\" }}) {{ media {{ id }} }} }}");
            let (status, body) = server.post_as(token, &json!({ "query": document })).await;
            assert_eq!(status, 200, "{body}");
            assert!(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"].contains(&code(&body)), "{body}");
        }
        assert_eq!(total(&server, &admin).await, 2);
    }
}

on_both_storages! {
    async fn a_hero_image_is_public_while_published_content_uses_it(backend, storage) {
        let server = TestServer::on(backend).storage(storage).sample().start().await;
        let admin = server.first_admin().await;
        let item = upload(&server, &admin, png(700, 350), "hero.png", "Microneedling pen on skin").await;
        let id = item["id"].clone();
        let topic = server.query_as(&admin, r#"{ topic(slug: "microneedling") { id version } }"#, json!({})).await["topic"].clone();
        let plain = format!("/media/{}.png", item["contentHash"].as_str().expect("hash"));
        assert_eq!(get(&server, &plain, &[]).await.status(), 404, "public before any published use");

        // Not an image, or no such item: refused, nothing written.
        let pdf = upload(&server, &admin, b"%PDF-1.4\n%%EOF\n".to_vec(), "leaflet.pdf", "").await;
        const SET: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version image { id } } } }";
        for (bad, why) in [(pdf["id"].clone(), "not an image"), (json!("99999"), "no media item")] {
            let (_, body) = server.post_as(Some(&admin.access), &json!({ "query": SET, "variables": { "input": { "id": topic["id"], "expectedVersion": topic["version"], "imageId": bad } } })).await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "input.imageId");
            assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains(why)), "{body}");
        }
        let saved = server.query_as(&admin, SET, json!({ "input": { "id": topic["id"], "expectedVersion": topic["version"], "imageId": id } })).await["updateTopic"]["topic"].clone();
        assert_eq!(saved["image"]["id"], id);

        // The public reads it through the topic, at its plain address, cacheable forever.
        let public = server.query(r#"{ topic(slug: "microneedling") { image { url width height alt mimeType dominantColor srcset variants { width height url } } } }"#, json!({})).await;
        assert_eq!(public["topic"]["image"]["url"], plain.as_str());
        assert_eq!(public["topic"]["image"]["width"], 700);
        // Responsive variants: lossy WebP at 320 and 640 pixels and the image's own 700.
        let hash = item["contentHash"].as_str().expect("hash");
        let variant = |w: u32| format!("/media/{hash}/{w}.webp");
        assert_eq!(public["topic"]["image"]["variants"], json!([
            { "width": 320, "height": 160, "url": variant(320) },
            { "width": 640, "height": 320, "url": variant(640) },
            { "width": 700, "height": 350, "url": variant(700) },
        ]));
        assert_eq!(public["topic"]["image"]["srcset"], format!("{} 320w, {} 640w, {} 700w", variant(320), variant(640), variant(700)));
        let picked = server.query(r#"{ topic(slug: "microneedling") { image { srcset(widths: [640]) } } }"#, json!({})).await;
        assert_eq!(picked["topic"]["image"]["srcset"], format!("{} 640w", variant(640)));
        let unknown = server.query_error(r#"{ topic(slug: "microneedling") { image { srcset(widths: [333]) } } }"#, json!({})).await;
        assert_eq!(unknown["extensions"]["code"], "BAD_USER_INPUT", "{unknown}");
        let small = get(&server, &variant(320), &[]).await;
        assert_eq!(small.status(), 200);
        assert_eq!(header(&small, "content-type"), "image/webp");
        assert_eq!(header(&small, "cache-control"), "public, max-age=31536000, immutable");
        let small_etag = header(&small, "etag").to_owned();
        let decoded = image::load_from_memory(&small.bytes().await.expect("webp")).expect("a WebP");
        assert_eq!((decoded.width(), decoded.height()), (320, 160));
        assert_eq!(get(&server, &variant(320), &[("If-None-Match", &small_etag)]).await.status(), 304);
        assert_eq!(get(&server, &variant(500), &[]).await.status(), 404, "no such variant");
        assert_eq!(public["topic"]["image"]["alt"], "Microneedling pen on skin");
        let hidden = server.query_error(r#"{ topic(slug: "microneedling") { image { filename } } }"#, json!({})).await;
        assert_eq!(hidden["extensions"]["code"], "UNAUTHENTICATED", "the uploaded file's name is not public: {hidden}");
        let response = get(&server, &plain, &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable");
        let etag = header(&response, "etag").to_owned();
        assert_eq!(etag, format!("\"{}\"", item["contentHash"].as_str().expect("hash")));
        assert_eq!(header(&response, "accept-ranges"), "bytes");
        let whole = response.bytes().await.expect("bytes");
        // Another node behind the load balancer serves the same bytes from the shared store.
        let other = server.another_node(&[]).await;
        let elsewhere = get(&other, &plain, &[]).await;
        assert_eq!(elsewhere.status(), 200);
        assert_eq!(elsewhere.bytes().await.expect("bytes"), whole);
        assert_eq!(get(&server, &plain, &[("If-None-Match", &etag)]).await.status(), 304);
        let part = get(&server, &plain, &[("Range", "bytes=10-19")]).await;
        assert_eq!(part.status(), 206);
        assert_eq!(header(&part, "content-range"), format!("bytes 10-19/{}", whole.len()));
        assert_eq!(part.bytes().await.expect("part"), whole.slice(10..20));
        let tail = get(&server, &plain, &[("Range", "bytes=-5")]).await;
        assert_eq!(tail.bytes().await.expect("tail"), whole.slice(whole.len() - 5..));
        let outside = get(&server, &plain, &[("Range", &format!("bytes={}-", whole.len() + 10))]).await;
        assert_eq!(outside.status(), 416);
        assert_eq!(header(&outside, "content-range"), format!("bytes */{}", whole.len()));

        // Published content uses it: it stays. The refusal names the topic.
        const DELETE: &str = "mutation($id: ID!) { deleteMedia(input: { id: $id }) { media { id } } }";
        let (_, refused) = server.post_as(Some(&admin.access), &json!({ "query": DELETE, "variables": { "id": id } })).await;
        assert_eq!(code(&refused), "CONFLICT", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["reason"], "IN_USE");
        assert_eq!(refused["errors"][0]["extensions"]["documents"][0]["slug"], "microneedling");
        let used = server.query_as(&admin, "query($id: ID!) { mediaItem(id: $id) { usedBy { documentType slug status } } }", json!({ "id": id })).await;
        assert_eq!(used["mediaItem"]["usedBy"], json!([{ "documentType": "TOPIC", "slug": "microneedling", "status": "PUBLISHED" }]));

        // Taken off the topic, it is no longer public, and may go.
        let cleared = server.query_as(&admin, SET, json!({ "input": { "id": topic["id"], "expectedVersion": saved["version"], "imageId": null } })).await;
        assert_eq!(cleared["updateTopic"]["topic"]["image"], Value::Null);
        assert_eq!(get(&server, &plain, &[]).await.status(), 404);
        server.query_as(&admin, DELETE, json!({ "id": id })).await;
        assert_eq!(server.query_as(&admin, "query($id: ID!) { mediaItem(id: $id) { id } }", json!({ "id": id })).await["mediaItem"], Value::Null);
        assert_eq!(get(&server, item["url"].as_str().expect("url"), &[]).await.status(), 404, "its file is gone");
        let files = server.stored_media().await;
        assert!(files.iter().all(|f| !f.contains(hash)), "its variants are gone too: {files:?}");
    }
}

on_both_storages! {
    async fn descriptions_are_versioned_searched_and_shared_files_outlive_one_item(backend, storage) {
        let server = TestServer::on(backend).storage(storage).start().await;
        let admin = server.first_admin().await;
        let editor = server.user(&admin, "ed@example.org", "EDITOR").await;
        // A burst of the same photo from two editors: one row each, one stored file.
        let bytes = png(30, 30);
        let uploads = (0..6).map(|i| {
            let (server, who, bytes) = (&server, if i % 2 == 0 { &admin } else { &editor }, bytes.clone());
            async move { upload(server, who, bytes, &format!("same-{i}.png"), &format!("Copy {i}")).await }
        });
        let items = futures_util::future::join_all(uploads).await;
        let hashes: std::collections::HashSet<_> = items.iter().map(|i| i["contentHash"].clone()).collect();
        assert_eq!(hashes.len(), 1);
        // One original and its one variant.
        assert_eq!(server.stored_media().await.len(), 2);
        let other = upload(&server, &editor, png(31, 17), "scar-after.png", "Scar after three sessions").await;

        // Search by file name, alt text or caption, any case; pages newest first.
        let search = |text: &str| {
            let (server, admin, text) = (&server, &admin, text.to_owned());
            async move {
                server.query_as(admin, "query($s: String) { media(search: $s) { totalCount items { id } } }", json!({ "s": text })).await["media"].clone()
            }
        };
        assert_eq!(search("SCAR").await["items"], json!([{ "id": other["id"] }]));
        assert_eq!(search("copy").await["totalCount"], 6);
        assert_eq!(search("100%_").await["totalCount"], 0);
        let first = server.query_as(&admin, "{ media(first: 4) { items { id } nextCursor totalCount } }", json!({})).await["media"].clone();
        assert_eq!(first["items"][0]["id"], other["id"]);
        assert_eq!(first["totalCount"], 7);
        let rest = server.query_as(&admin, "query($after: ID) { media(first: 4, after: $after) { items { id } nextCursor } }", json!({ "after": first["nextCursor"] })).await["media"].clone();
        assert_eq!(rest["items"].as_array().map(Vec::len), Some(3));
        assert_eq!(rest["nextCursor"], Value::Null);

        // Descriptions: versioned, a stale save refused, a save without changes writes nothing.
        const UPDATE: &str = "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { alt caption version } } }";
        let id = &items[0]["id"];
        let saved = server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "caption": "Day one" } })).await["updateMedia"]["media"].clone();
        assert_eq!(saved, json!({ "alt": "Copy 0", "caption": "Day one", "version": 2 }));
        let same = server.query_as(&editor, UPDATE, json!({ "input": { "id": id, "expectedVersion": 2, "caption": "Day one" } })).await["updateMedia"]["media"].clone();
        assert_eq!(same["version"], 2);
        let (_, stale) = server.post_as(Some(&admin.access), &json!({ "query": UPDATE, "variables": { "input": { "id": id, "expectedVersion": 1, "alt": "Mine" } } })).await;
        assert_eq!(code(&stale), "CONFLICT", "{stale}");
        assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 2);
        let (_, emptied) = server.post_as(Some(&admin.access), &json!({ "query": UPDATE, "variables": { "input": { "id": id, "expectedVersion": 2, "alt": "" } } })).await;
        assert_eq!(emptied["errors"][0]["extensions"]["field"], "input.alt", "{emptied}");

        // Deleting one of the copies keeps the file for the others; the last takes it along.
        const DELETE: &str = "mutation($id: ID!) { deleteMedia(input: { id: $id }) { media { id } } }";
        let url = items[1]["url"].as_str().expect("url").to_owned();
        for item in &items[..5] {
            server.query_as(&editor, DELETE, json!({ "id": item["id"] })).await;
        }
        let signed = server.query_as(&admin, "query($id: ID!) { mediaItem(id: $id) { url } }", json!({ "id": items[5]["id"] })).await["mediaItem"]["url"].as_str().expect("url").to_owned();
        assert_eq!(get(&server, &signed, &[]).await.status(), 200);
        server.query_as(&editor, DELETE, json!({ "id": items[5]["id"] })).await;
        assert_eq!(get(&server, &url, &[]).await.status(), 404);
        assert_eq!(server.stored_media().await.len(), 2, "only the other photo's files are left");
    }
}

/// The value of attribute `name` of the first `<tag` in `html`, as a browser reads it.
fn attribute(html: &str, tag: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("<{tag} "))?;
    let element = &html[start..start + html[start..].find('>')?];
    let at = element.find(&format!(" {name}=\""))? + name.len() + 3;
    let value = &element[at..at + element[at..].find('"')?];
    Some(value.replace("&amp;", "&"))
}

on_both_storages! {
    async fn images_in_markdown_render_responsive_and_are_public_once_their_document_is(backend, storage) {
        let server = TestServer::on(backend).storage(storage).sample().start().await;
        let admin = server.first_admin().await;
        let item = upload(&server, &admin, png(700, 350), "diagram.png", "Needles making micro-channels").await;
        let leaflet = upload(&server, &admin, b"%PDF-1.4\n%%EOF\n".to_vec(), "aftercare.pdf", "").await;
        let (id, hash) = (item["id"].as_str().expect("id"), item["contentHash"].as_str().expect("hash"));
        let plain = format!("/media/{hash}.png");
        const CREATE: &str = "mutation($input: CreateTopicInput!) { createTopic(input: $input) { topic { id version bodyHtml } } }";
        let topics = || async { server.query_as(&admin, "{ topics { totalCount } }", json!({})).await["topics"]["totalCount"].clone() };
        let before = topics().await;

        // Naming no item of the library: refused at the body, nothing written.
        let (_, refused) = server.post_as(Some(&admin.access), &json!({ "query": CREATE, "variables": { "input": {
            "title": "Dermaplaning", "body": "Before:\n\n![a photo](media:99999)" } } })).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "input.body");
        assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.contains("media:99999")), "{refused}");
        assert_eq!(topics().await, before, "a refused body wrote a topic");

        // A draft that shows the image (its own alt, then the item's) and links the leaflet.
        let body = format!("# How it works\n\n![The pen at work](media:{id} \"Step one\")\n\n![](media:{id})\n\nRead [the aftercare leaflet](media:{}).", leaflet["id"].as_str().expect("id"));
        let draft = server.query_as(&admin, CREATE, json!({ "input": { "title": "Dermaplaning", "body": body } })).await["createTopic"]["topic"].clone();
        let html = draft["bodyHtml"].as_str().expect("html").to_owned();
        let src = attribute(&html, "img", "src").expect("an img");
        assert!(src.starts_with(&format!("{plain}?expires=")) && src.contains("&signature="), "an editor's preview loads the draft's image: {html}");
        assert_eq!(get(&server, &src, &[]).await.status(), 200, "{src}");
        assert_eq!(attribute(&html, "img", "width").as_deref(), Some("700"));
        assert_eq!(attribute(&html, "img", "height").as_deref(), Some("350"));
        assert_eq!(attribute(&html, "img", "alt").as_deref(), Some("The pen at work"));
        assert_eq!(attribute(&html, "img", "title").as_deref(), Some("Step one"));
        assert_eq!(attribute(&html, "img", "loading").as_deref(), Some("lazy"));
        let srcset = attribute(&html, "img", "srcset").expect("srcset");
        let widths: Vec<&str> = srcset.split(", ").map(|c| c.rsplit(' ').next().unwrap_or("")).collect();
        assert_eq!(widths, ["320w", "640w", "700w"], "{srcset}");
        for candidate in srcset.split(", ") {
            let url = candidate.split(' ').next().expect("url");
            assert_eq!(get(&server, url, &[]).await.status(), 200, "{url}");
        }
        assert!(html.contains("alt=\"Needles making micro-channels\""), "an image without its own alt takes the item's: {html}");
        let link = attribute(&html, "a", "href").expect("the leaflet's link");
        assert!(link.starts_with(&format!("/media/{}.pdf?", leaflet["contentHash"].as_str().expect("hash"))), "{html}");
        // The preview of unsaved text shows it the same way.
        let preview = server.query_as(&admin, "query($m: String!) { markdownPreview(markdown: $m) }", json!({ "m": format!("![x](media:{id})") })).await;
        let preview_src = attribute(preview["markdownPreview"].as_str().expect("preview"), "img", "src").expect("img");
        assert_eq!(get(&server, &preview_src, &[]).await.status(), 200);

        // Used by a draft only: nothing of it is public, and it may be deleted... but not yet.
        assert_eq!(get(&server, &plain, &[]).await.status(), 404);
        assert_eq!(get(&server, &format!("/media/{hash}/320.webp"), &[]).await.status(), 404);
        let used = server.query_as(&admin, "query($id: ID!) { mediaItem(id: $id) { usedBy { documentType slug status } } }", json!({ "id": id })).await;
        assert_eq!(used["mediaItem"]["usedBy"], json!([{ "documentType": "TOPIC", "slug": "dermaplaning", "status": "DRAFT" }]));

        // Published: public at plain addresses, in the stored HTML every reader gets.
        server.query_as(&admin, "mutation($input: PublishTopicInput!) { publishTopic(input: $input) { topic { status } } }",
            json!({ "input": { "id": draft["id"], "expectedVersion": draft["version"], "overrideReview": "tested without review" } })).await;
        let read = || async { server.post(&json!({ "query": r#"{ topic(slug: "dermaplaning") { bodyHtml } }"# })).await.1 };
        let public = read().await;
        let public_html = public["data"]["topic"]["bodyHtml"].as_str().expect("html").to_owned();
        assert_eq!(attribute(&public_html, "img", "src"), Some(plain.clone()), "{public_html}");
        assert!(!public_html.contains("signature"), "{public_html}");
        assert_eq!(get(&server, &plain, &[]).await.status(), 200);
        assert_eq!(get(&server, &format!("/media/{hash}/640.webp"), &[]).await.status(), 200);
        for _ in 0..3 {
            assert_eq!(read().await, public, "every read path answers the same bytes");
        }

        // Published content shows it: it stays.
        let (_, in_use) = server.post_as(Some(&admin.access), &json!({ "query": "mutation($id: ID!) { deleteMedia(input: { id: $id }) { media { id } } }", "variables": { "id": id } })).await;
        assert_eq!(in_use["errors"][0]["extensions"]["reason"], "IN_USE", "{in_use}");
        assert_eq!(in_use["errors"][0]["extensions"]["documents"][0]["slug"], "dermaplaning");

        // A new alt text reaches the published HTML that uses the item's.
        server.query_as(&admin, "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { version } } }",
            json!({ "input": { "id": id, "expectedVersion": item["version"], "alt": "Micro-channels, magnified" } })).await;
        let renamed = read().await["data"]["topic"]["bodyHtml"].as_str().expect("html").to_owned();
        assert!(renamed.contains("alt=\"Micro-channels, magnified\""), "{renamed}");
        assert!(renamed.contains("alt=\"The pen at work\""), "an image's own alt stays: {renamed}");
    }
}

on_both_databases! {
    async fn apollo_clients_upload_link_uploads_through_the_multipart_spec(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        let dir = dermis_tests::tempfile::tempdir().expect("folder");
        let path = dir.path().join("upload.png");
        std::fs::write(&path, png(64, 32)).expect("write the image");
        let script = node_clients().await.join("upload.mjs");
        let args = [server.url("/graphql"), admin.access.clone(), path.display().to_string(), "cheek-before.png".into(), "Cheek before the first session".into()];
        let mut apollo = NodeProcess::start(&script, &args, &[]).await;
        let uploaded = apollo.line().await;
        let item = &uploaded["uploaded"];
        assert_eq!(item["filename"], "cheek-before.png", "{uploaded}");
        assert_eq!((item["mimeType"].as_str(), item["width"].as_i64(), item["height"].as_i64()), (Some("image/png"), Some(64), Some(32)));
        assert_eq!(item["alt"], "Cheek before the first session");
        let read = apollo.line().await;
        let srcset = read["read"]["srcset"].as_str().expect("srcset");
        assert!(srcset.contains(&format!("/media/{}/64.webp?", item["contentHash"].as_str().expect("hash"))), "{read}");
        apollo.stop().await;
        assert_eq!(total(&server, &admin).await, 1);
    }
}

on_both_databases! {
    async fn a_save_racing_a_delete_never_loses_the_image_it_names(backend) {
        // An editor points the published topic at an item (hero image or Markdown) while
        // another deletes that item. Exactly one wins: the save, and the delete is refused
        // as in use; or the delete, and the save is refused as naming no item. Never both,
        // which would leave a published page without the image its editor just saved.
        let server = TestServer::sample(backend).await;
        let admin = server.first_admin().await;
        const SET: &str = "mutation($input: UpdateTopicInput!) { updateTopic(input: $input) { topic { version image { id } bodyHtml } } }";
        const DELETE: &str = "mutation($id: ID!) { deleteMedia(input: { id: $id }) { media { id } } }";
        const TOPIC: &str = r#"{ topic(slug: "microneedling") { id version body image { id } bodyHtml } }"#;
        let (mut saves, mut deletes) = (0, 0);
        for round in 0..16 {
            let item = upload(&server, &admin, png(24, 16), "race.png", "A racing image").await;
            let id = item["id"].as_str().expect("id").to_owned();
            let topic = server.query(TOPIC, json!({})).await["topic"].clone();
            let mut input = json!({ "id": topic["id"], "expectedVersion": topic["version"] });
            let in_markdown = round % 2 == 1;
            if in_markdown {
                input["body"] = json!(format!("{}\n\n![A racing image](media:{id})", topic["body"].as_str().expect("body")));
            } else {
                input["imageId"] = json!(id);
            }
            let (save, delete) = (
                json!({ "query": SET, "variables": { "input": input } }),
                json!({ "query": DELETE, "variables": { "id": id } }),
            );
            let save = server.post_as(Some(&admin.access), &save);
            let delete = server.post_as(Some(&admin.access), &delete);
            let ((_, saved), (_, deleted)) = tokio::join!(save, delete);
            let now = server.query(TOPIC, json!({})).await["topic"].clone();
            match (saved["errors"].is_null(), deleted["errors"].is_null()) {
                (true, false) => {
                    saves += 1;
                    assert_eq!((code(&deleted), &deleted["errors"][0]["extensions"]["reason"]), ("CONFLICT", &json!("IN_USE")), "{deleted}");
                    if in_markdown {
                        let hash = item["contentHash"].as_str().expect("hash");
                        assert!(now["bodyHtml"].as_str().is_some_and(|h| h.contains(hash)), "round {round}: {now}");
                    } else {
                        assert_eq!(now["image"]["id"], json!(id), "round {round}: {now}");
                    }
                }
                (false, true) => {
                    deletes += 1;
                    assert_eq!(code(&saved), "BAD_USER_INPUT", "{saved}");
                    assert_eq!(now["version"], topic["version"], "round {round}: nothing saved");
                }
                _ => panic!("round {round}: exactly one must win\nsave: {saved}\ndelete: {deleted}\nnow: {now}"),
            }
        }
        eprintln!("{backend:?}: the save won {saves} rounds, the delete {deletes}");
    }
}

/// A 40 x 20 AVIF (left half red, right half blue) whose container says "turn 90 degrees
/// counter-clockwise" and carries an Exif item holding `MARKER` and an XMP packet holding
/// `DERMIS-XMP-MARKER` (written by libavif's avifenc).
const AVIF: &[u8] = include_bytes!("../fixtures/media/photo-gps-irot90.avif");

on_both_databases! {
    async fn an_avif_photo_is_kept_upright_as_webp_without_a_byte_of_its_metadata(backend) {
        let server = TestServer::on(backend).start().await;
        let admin = server.first_admin().await;
        assert!(contains(AVIF, MARKER) && contains(AVIF, b"DERMIS-XMP-MARKER"));
        let item = upload(&server, &admin, AVIF.to_vec(), "after-session.avif", "Cheek after a session").await;
        assert_eq!((item["kind"].as_str(), item["mimeType"].as_str()), (Some("IMAGE"), Some("image/webp")), "{item}");
        assert_eq!((item["width"].as_i64(), item["height"].as_i64()), (Some(20), Some(40)), "turned as the container says");
        assert_eq!(item["filename"], "after-session.avif");
        let url = item["url"].as_str().expect("url");
        assert!(url.contains(".webp?"), "{url}");
        let response = get(&server, url, &[]).await;
        assert_eq!(header(&response, "content-type"), "image/webp");
        let served = response.bytes().await.expect("bytes").to_vec();
        assert!(!contains(&served, MARKER) && !contains(&served, b"DERMIS-XMP-MARKER"), "no byte of the metadata");
        let upright = image::load_from_memory(&served).expect("a WebP").to_rgb8();
        let (top, bottom) = (upright.get_pixel(10, 5), upright.get_pixel(10, 35));
        assert!(bottom[0] > 150 && top[2] > 150, "red below, blue above: {top:?} {bottom:?}");

        // Cut short: damaged, nothing written.
        let before = total(&server, &admin).await;
        let (status, body) = upload_as(&server, Some(&admin.access), AVIF[..AVIF.len() / 2].to_vec(), "cut.avif", "image/avif", "alt").await;
        assert_eq!((status, code(&body)), (200, "BAD_USER_INPUT"), "{body}");
        assert_eq!(total(&server, &admin).await, before);

        // Over the pixel limit, judged before a frame is decoded.
        let strict = TestServer::on(backend).env("DERMIS_MEDIA_MAX_PIXELS", "500").start().await;
        let admin = strict.first_admin().await;
        let (_, body) = upload_as(&strict, Some(&admin.access), AVIF.to_vec(), "big.avif", "image/avif", "alt").await;
        assert_eq!(code(&body), "MEDIA_TOO_LARGE", "{body}");
    }
}
