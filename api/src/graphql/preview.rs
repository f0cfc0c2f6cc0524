//! Preview links for a frontend's draft mode: `createPreviewLink`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{condition, side_effect, topic};
use sea_orm::{ColumnTrait, QueryFilter};

use super::context::{auth, request};
use super::guard::RoleGuard;
use super::types::DocumentType;
use crate::auth::preview::{self, Previewed};
use crate::content::Visibility;
use crate::content::document::Document;
use crate::content::{query, validate};
use crate::errors::{ApiError, ApiResult};

/// The document to preview.
#[derive(InputObject)]
pub struct CreatePreviewLinkInput {
    /// Its type.
    pub document_type: DocumentType,
    /// Its id.
    pub id: ID,
}

/// A preview link: a token that reads one document's draft, and the frontend's address
/// for it.
#[derive(SimpleObject)]
pub struct PreviewLink {
    /// Send as `Authorization: Bearer <token>` with `topic(id: ..., preview: true)` (or
    /// `slug`): it reads this document's draft, its links as the public sees them, and
    /// anything else as the public does; it writes nothing.
    pub token: String,
    /// `DERMIS_PREVIEW_URL` with the token, slug, id and type filled in; null when the
    /// server has no preview address configured.
    pub url: Option<String>,
    /// When the token stops working (`DERMIS_PREVIEW_TTL` after it was made).
    pub expires_at: DateTime<Utc>,
}

/// The slug of document `id` of type `E`, whatever its status.
async fn slug_of<E: Document>(
    db: &sea_orm::DatabaseConnection,
    id: i32,
) -> ApiResult<Option<String>> {
    let select = query::visible::<E>(E::find(), Visibility::All).filter(E::ID.eq(id));
    Ok(crate::db::unique(select, db)
        .await?
        .map(|model| E::slug(&model).to_owned()))
}

/// Preview links.
#[derive(Default)]
pub struct PreviewMutations;

/// Preview links.
#[Object]
impl PreviewMutations {
    /// Editors: a short-lived token that reads one document's draft, for a frontend's draft
    /// mode, and the frontend's preview address with it when the server has one.
    #[graphql(guard = "RoleGuard::Editor")]
    async fn create_preview_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The document.")] input: CreatePreviewLinkInput,
    ) -> ApiResult<PreviewLink> {
        let (request, db) = request(ctx)?;
        let editor = request.viewer.user_id()?;
        let id = validate::id(&input.id, "input.id")?;
        let slug = match input.document_type {
            DocumentType::Topic => slug_of::<topic::Entity>(db, id).await?,
            DocumentType::Condition => slug_of::<condition::Entity>(db, id).await?,
            DocumentType::SideEffect => slug_of::<side_effect::Entity>(db, id).await?,
        };
        let slug = slug.ok_or_else(|| ApiError::NotFound("no such document".into()))?;
        let document = Previewed {
            kind: input.document_type.kind(),
            id,
        };
        let auth = auth(ctx)?;
        let (token, expires_at) = auth.preview_token(editor, document)?;
        let url = auth
            .settings
            .preview_url
            .as_deref()
            .map(|template| preview::url(template, document, &slug, &token));
        Ok(PreviewLink {
            token,
            url,
            expires_at,
        })
    }
}
