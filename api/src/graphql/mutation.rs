//! The root `Mutation` type. Every mutation takes one `input` and returns a payload.
//! All but `login`, `refreshSession` and `createFirstAdmin` declare a guard; a test
//! introspects the schema and proves each refuses an anonymous caller.

use std::collections::HashSet;
use std::sync::LazyLock;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    OperationDefinition, OperationType, Selection, TypeKind, TypeSystemDefinition,
};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, InputObject, MaybeUndefined, MergedObject,
    Object, Schema, SimpleObject, Union,
};
use entity::json::Reference;
use entity::{condition, side_effect, topic};

use super::context::{auth, media_addresses, request};
use super::enums::{Duration, Frequency, Severity};
use super::guard::RoleGuard;
use super::types::{AuthPayload, Condition, Role, SideEffect, Topic, User};
use crate::auth::users::NewUser;
use crate::auth::{sessions, setup, users};
use crate::content::Visibility;
use crate::content::edit::{self, Restored, Transition};
use crate::content::fields::{
    ConditionLink, Items, Label, Markdown, NamedFields, References, SideEffectLink, Slug, Summary,
    TopicFields,
};
use crate::content::validate;
use crate::errors::ApiResult;

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    SessionMutations,
    SetupMutations,
    UserMutations,
    TopicMutations,
    ConditionMutations,
    SideEffectMutations,
    RevisionMutations,
    super::api_tokens::ApiTokenMutations,
    super::webhooks::WebhookMutations,
    super::preview::PreviewMutations,
    super::review::ReviewMutations,
    super::schedules::ScheduleMutations,
    super::media::MediaMutations,
);

// ----- accounts -----------------------------------------------------------------------

/// Credentials.
#[derive(InputObject)]
pub struct LoginInput {
    /// Email address (any case).
    pub email: String,
    /// Password.
    pub password: String,
}

/// A refresh token to exchange.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from `login` or the previous `refreshSession`.
    pub refresh_token: String,
}

/// The session to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The session's current refresh token.
    pub refresh_token: String,
}

/// The first admin of a new server.
#[derive(InputObject)]
pub struct CreateFirstAdminInput {
    /// The one-time code the server printed to its log at start.
    pub setup_code: String,
    /// Email address.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Password: 12 characters to 1 KiB.
    pub password: String,
}

/// A new password for oneself.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password in use now.
    pub current_password: String,
    /// The new password: 12 characters to 1 KiB.
    pub new_password: String,
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the session is over (an unknown token is not an error).
    pub signed_out: bool,
}

/// Sign-in, sessions and one's own password: the mutations that change no content, so
/// they leave the response cache alone (a login flood must not flush every node's cache).
#[derive(Default)]
pub struct SessionMutations;

/// Sign-in, sessions and one's own password.
#[Object]
impl SessionMutations {
    /// Signs in. Wrong email and wrong password get the same answer; repeated failures per
    /// account and per client address are refused with `RATE_LIMITED` for a while.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Credentials.")] input: LoginInput,
    ) -> ApiResult<AuthPayload> {
        let (request, db) = request(ctx)?;
        let issued =
            users::login(db, auth(ctx)?, &input.email, input.password, request.client).await?;
        Ok(issued.into())
    }

    /// Exchanges a refresh token for new tokens. The old refresh token stops working;
    /// presenting it again ends the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token.")] input: RefreshSessionInput,
    ) -> ApiResult<AuthPayload> {
        let (_, db) = request(ctx)?;
        Ok(sessions::refresh(db, auth(ctx)?, &input.refresh_token)
            .await?
            .into())
    }

    /// Ends the session of this refresh token.
    #[graphql(guard = "RoleGuard::SignedIn")]
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's refresh token.")] input: LogoutInput,
    ) -> ApiResult<LogoutPayload> {
        let (request, db) = request(ctx)?;
        sessions::logout(db, request.viewer.user_id()?, &input.refresh_token).await?;
        Ok(LogoutPayload { signed_out: true })
    }

    /// Changes one's own password. Every session of the user ends; a new one is returned.
    #[graphql(guard = "RoleGuard::SignedIn")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> ApiResult<AuthPayload> {
        let (request, db) = request(ctx)?;
        let id = request.viewer.user_id()?;
        let issued = users::change_own_password(
            db,
            auth(ctx)?,
            id,
            input.current_password,
            input.new_password,
            request.client,
        )
        .await?;
        Ok(issued.into())
    }
}

/// Setting up a new server. Not a session mutation: it changes what the anonymous
/// `setupStatus` answers.
#[derive(Default)]
pub struct SetupMutations;

/// Setting up a new server.
#[Object]
impl SetupMutations {
    /// Creates the first admin while no user exists, with the setup code from the log.
    /// Of concurrent calls exactly one succeeds.
    async fn create_first_admin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The setup code and the admin's details.")] input: CreateFirstAdminInput,
    ) -> ApiResult<AuthPayload> {
        let (_, db) = request(ctx)?;
        let admin = NewUser {
            email: input.email,
            display_name: input.display_name,
            role: entity::Role::Admin,
            password: input.password,
        };
        Ok(
            setup::create_first_admin(db, auth(ctx)?, &input.setup_code, admin)
                .await?
                .into(),
        )
    }
}

/// The names of [`SessionMutations`]' fields, read from its GraphQL type (its SDL as the
/// root of a schema of its own), so that a session mutation added there is known here.
fn session_mutations() -> &'static HashSet<String> {
    static NAMES: LazyLock<HashSet<String>> = LazyLock::new(|| {
        let sdl = Schema::new(SessionMutations, EmptyMutation, EmptySubscription).sdl();
        let Ok(document) = parse_schema(&sdl) else {
            return HashSet::new();
        };
        document
            .definitions
            .iter()
            .filter_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == "SessionMutations" => {
                    match &ty.node.kind {
                        TypeKind::Object(object) => Some(&object.fields),
                        _ => None,
                    }
                }
                _ => None,
            })
            .flatten()
            .map(|field| field.node.name.node.to_string())
            .collect()
    });
    &NAMES
}

/// Whether running `operation` may change what anonymous callers see: it is a mutation
/// with a field that is not a session mutation.
pub fn changes_content(operation: &OperationDefinition) -> bool {
    operation.ty == OperationType::Mutation
        && operation
            .selection_set
            .node
            .items
            .iter()
            .any(|item| match &item.node {
                Selection::Field(field) => {
                    !session_mutations().contains(field.node.name.node.as_str())
                }
                _ => true,
            })
}

// ----- users (admins) -----------------------------------------------------------------

/// A new user.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Email address (unique, any case).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// Initial password: 12 characters to 1 KiB.
    pub password: String,
}

/// Changes to a user; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user.
    pub id: ID,
    /// New email address.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
}

/// A user to deactivate.
#[derive(InputObject)]
pub struct DeactivateUserInput {
    /// The user.
    pub id: ID,
}

/// A new password for a user.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The user.
    pub id: ID,
    /// The new password: 12 characters to 1 KiB.
    pub new_password: String,
}

/// Result of a user mutation.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user as saved.
    pub user: User,
}

/// User management; admins only.
#[derive(Default)]
pub struct UserMutations;

/// User management; admins only.
#[Object]
impl UserMutations {
    /// Creates a user.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new user.")] input: CreateUserInput,
    ) -> ApiResult<UserPayload> {
        let (_, db) = request(ctx)?;
        let user = users::create(
            db,
            NewUser {
                email: input.email,
                display_name: input.display_name,
                role: input.role.into(),
                password: input.password,
            },
        )
        .await?;
        Ok(UserPayload {
            user: User::account(user),
        })
    }

    /// Changes a user's email, display name or role.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateUserInput,
    ) -> ApiResult<UserPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let user = users::update(
            db,
            id,
            input.email,
            input.display_name,
            input.role.map(Into::into),
        )
        .await?;
        Ok(UserPayload {
            user: User::account(user),
        })
    }

    /// Deactivates a user: they can no longer sign in and every session ends at once.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] input: DeactivateUserInput,
    ) -> ApiResult<UserPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        Ok(UserPayload {
            user: User::account(users::deactivate(db, id).await?),
        })
    }

    /// Sets a new password for a user; every session of the user ends.
    #[graphql(guard = "RoleGuard::Admin")]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user and the password.")] input: ResetPasswordInput,
    ) -> ApiResult<UserPayload> {
        let (_, db) = request(ctx)?;
        let id = validate::id(&input.id, "input.id")?;
        let user = users::set_password(db, id, input.new_password, "input.newPassword").await?;
        Ok(UserPayload {
            user: User::account(user),
        })
    }
}

// ----- topics -------------------------------------------------------------------------

/// A source a topic cites.
#[derive(InputObject)]
pub struct ReferenceInput {
    /// Title of the source.
    pub title: String,
    /// Where to read it (http or https), when it is online.
    pub url: Option<String>,
}

/// A link from a topic to a condition it treats.
#[derive(InputObject)]
pub struct TopicConditionInput {
    /// The condition.
    pub condition_id: ID,
    /// A remark on this pairing.
    pub note: Option<String>,
}

/// A link from a topic to a side effect it may cause.
#[derive(InputObject)]
pub struct TopicSideEffectInput {
    /// The side effect.
    pub side_effect_id: ID,
    /// How often it occurs after this procedure.
    pub frequency: Frequency,
    /// How severe it is after this procedure.
    pub severity: Severity,
    /// How long it lasts after this procedure.
    pub duration: Duration,
    /// A remark on this pairing.
    pub note: Option<String>,
}

/// A new topic; it starts as a draft.
#[derive(InputObject)]
pub struct CreateTopicInput {
    /// Title (1 to 200 characters).
    pub title: String,
    /// URL name; derived from the title when omitted.
    pub slug: Option<String>,
    /// One plain paragraph.
    pub summary: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Features, in order.
    pub features: Option<Vec<String>>,
    /// Benefits, in order.
    pub benefits: Option<Vec<String>>,
    /// Sources, in order.
    pub references: Option<Vec<ReferenceInput>>,
    /// Conditions it treats, in order.
    pub conditions: Option<Vec<TopicConditionInput>>,
    /// Side effects it may cause, in order.
    pub side_effects: Option<Vec<TopicSideEffectInput>>,
    /// The hero image: a media item that is an image.
    #[graphql(default)]
    pub image_id: MaybeUndefined<ID>,
}

/// Changes to a topic; omitted fields stay as they are, given lists replace the old ones.
#[derive(InputObject)]
pub struct UpdateTopicInput {
    /// The topic.
    pub id: ID,
    /// The version the changes were made on; a stale one gives `CONFLICT` and writes nothing.
    pub expected_version: i32,
    /// Title.
    pub title: Option<String>,
    /// URL name.
    pub slug: Option<String>,
    /// One plain paragraph.
    pub summary: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// Features, in order.
    pub features: Option<Vec<String>>,
    /// Benefits, in order.
    pub benefits: Option<Vec<String>>,
    /// Sources, in order.
    pub references: Option<Vec<ReferenceInput>>,
    /// Conditions it treats, in order, with notes (replaces all).
    pub conditions: Option<Vec<TopicConditionInput>>,
    /// Side effects, in order, with their attributes (replaces all).
    pub side_effects: Option<Vec<TopicSideEffectInput>>,
    /// The hero image, a media item that is an image; null removes it.
    #[graphql(default)]
    pub image_id: MaybeUndefined<ID>,
    /// True to approve the saved content at once, as the signed-in reviewer or admin
    /// (`FORBIDDEN` for editors and tokens): see `approveTopic`.
    pub mark_reviewed: Option<bool>,
}

/// A topic to publish.
#[derive(InputObject)]
pub struct PublishTopicInput {
    /// The topic.
    pub id: ID,
    /// The version to publish.
    pub expected_version: i32,
    /// Also publish the unpublished conditions and side effects it links to, in the same
    /// transaction; otherwise publishing is refused while any exist.
    #[graphql(default = false)]
    pub include_linked: bool,
    /// An admin's reason for publishing content that has not been approved since it last
    /// changed (recorded in the history); `FORBIDDEN` for others. Without it such a publish
    /// is refused with `CONFLICT` (`NOT_APPROVED`).
    pub override_review: Option<String>,
}

/// A document and the version an action applies to.
#[derive(InputObject)]
pub struct DocumentVersionInput {
    /// The document.
    pub id: ID,
    /// The version the action applies to; a stale one gives `CONFLICT`.
    pub expected_version: i32,
}

/// Result of a topic mutation.
#[derive(SimpleObject)]
pub struct TopicPayload {
    /// The topic as saved.
    pub topic: Topic,
}

/// Result of a delete.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The id of the deleted document (its history remains).
    pub deleted_id: ID,
}

fn topic_payload(model: topic::Model) -> TopicPayload {
    TopicPayload {
        topic: Topic {
            model,
            visibility: Visibility::All,
        },
    }
}

fn references(input: Vec<ReferenceInput>) -> Vec<Reference> {
    input
        .into_iter()
        .map(|r| Reference {
            title: r.title,
            url: r.url,
        })
        .collect()
}

fn condition_links(input: Vec<TopicConditionInput>) -> ApiResult<Vec<ConditionLink>> {
    (0..)
        .zip(input)
        .map(|(i, link)| {
            let field = |name: &str| format!("input.conditions[{i}].{name}");
            let id = validate::id(&link.condition_id, &field("conditionId"))?;
            Ok(ConditionLink::parse(id, link.note, &field("note"))?)
        })
        .collect()
}

fn side_effect_links(input: Vec<TopicSideEffectInput>) -> ApiResult<Vec<SideEffectLink>> {
    (0..)
        .zip(input)
        .map(|(i, link)| {
            let field = |name: &str| format!("input.sideEffects[{i}].{name}");
            let id = validate::id(&link.side_effect_id, &field("sideEffectId"))?;
            let attributes = (
                link.frequency.into(),
                link.severity.into(),
                link.duration.into(),
            );
            Ok(SideEffectLink::parse(
                id,
                attributes,
                link.note,
                &field("note"),
            )?)
        })
        .collect()
}

/// A topic's fields as sent in `$input` (a create or update input) with title `$title`,
/// parsed into the one domain shape; each error names its input field.
macro_rules! topic_fields {
    ($input:ident, $title:expr) => {{
        let title: Option<String> = $title;
        let label = title.as_deref().unwrap_or_default();
        TopicFields {
            title: title
                .as_deref()
                .map(|t| Label::parse(t, "input.title"))
                .transpose()?,
            slug: $input
                .slug
                .as_deref()
                .map(|s| Slug::parse(Some(s), label, "input.slug"))
                .transpose()?,
            summary: $input
                .summary
                .as_deref()
                .map(|s| Summary::parse(s, "input.summary"))
                .transpose()?,
            body: $input
                .body
                .map(|b| Markdown::parse(b, "input.body"))
                .transpose()?,
            features: $input
                .features
                .map(|f| Items::parse(f, "input.features"))
                .transpose()?,
            benefits: $input
                .benefits
                .map(|b| Items::parse(b, "input.benefits"))
                .transpose()?,
            references: $input
                .references
                .map(|r| References::parse(references(r), "input.references"))
                .transpose()?,
            conditions: $input.conditions.map(condition_links).transpose()?,
            side_effects: $input.side_effects.map(side_effect_links).transpose()?,
            image: match $input.image_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(validate::id(&id, "input.imageId")?)),
            },
        }
    }};
}

/// Writing topics; editors.
#[derive(Default)]
pub struct TopicMutations;

/// Writing topics; editors.
#[Object]
impl TopicMutations {
    /// Creates a draft topic, with its links.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn create_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new topic.")] input: CreateTopicInput,
    ) -> ApiResult<TopicPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let fields = topic_fields!(input, Some(input.title));
        Ok(topic_payload(
            edit::create_topic(db, media_addresses(ctx)?, fields, author).await?,
        ))
    }

    /// Saves changes to a topic, links included, if `expectedVersion` is current. A save
    /// that changes nothing writes nothing (no version, revision or event) and answers the
    /// topic as it is.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn update_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateTopicInput,
    ) -> ApiResult<TopicPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let id = validate::id(&input.id, "input.id")?;
        let approval = match input.mark_reviewed {
            Some(true) => Some(super::review::approval(ctx, None, None)?),
            _ => None,
        };
        let fields = topic_fields!(input, input.title);
        Ok(topic_payload(
            edit::update_topic(
                db,
                media_addresses(ctx)?,
                id,
                input.expected_version,
                fields,
                author,
                edit::Recorded::update().approved(approval),
            )
            .await?,
        ))
    }

    /// Publishes a topic. Refused while it links to unpublished conditions or side effects,
    /// unless `includeLinked` publishes them with it.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn publish_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and version.")] input: PublishTopicInput,
    ) -> ApiResult<TopicPayload> {
        let transition = Transition::Publish {
            include_linked: input.include_linked,
            overridden: super::review::override_reason(ctx, input.override_review)?,
        };
        let version = DocumentVersionInput {
            id: input.id,
            expected_version: input.expected_version,
        };
        Ok(topic_payload(
            change_state::<topic::Entity>(ctx, version, transition).await?,
        ))
    }

    /// Takes a topic back to draft: the public no longer sees it.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn unpublish_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and version.")] input: DocumentVersionInput,
    ) -> ApiResult<TopicPayload> {
        Ok(topic_payload(
            change_state::<topic::Entity>(ctx, input, Transition::Unpublish).await?,
        ))
    }

    /// Archives a topic: withdrawn from the public, kept with its history.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn archive_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and version.")] input: DocumentVersionInput,
    ) -> ApiResult<TopicPayload> {
        Ok(topic_payload(
            change_state::<topic::Entity>(ctx, input, Transition::Archive).await?,
        ))
    }

    /// Deletes a topic and its links; its history remains.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn delete_topic(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The topic and version.")] input: DocumentVersionInput,
    ) -> ApiResult<DeletePayload> {
        delete_document::<topic::Entity>(ctx, input).await
    }
}

/// Publishes, unpublishes or archives document `input.id` as the signed-in editor.
async fn change_state<E: crate::content::document::Document>(
    ctx: &Context<'_>,
    input: DocumentVersionInput,
    transition: Transition,
) -> ApiResult<E::Model> {
    let (request, db) = request(ctx)?;
    let author = request.viewer.author()?;
    let id = validate::id(&input.id, "input.id")?;
    edit::transition::<E>(db, id, input.expected_version, transition, author).await
}

/// Deletes document `input.id` as the signed-in editor.
async fn delete_document<E: crate::content::document::Document>(
    ctx: &Context<'_>,
    input: DocumentVersionInput,
) -> ApiResult<DeletePayload> {
    let (request, db) = request(ctx)?;
    let author = request.viewer.author()?;
    let id = validate::id(&input.id, "input.id")?;
    edit::delete::<E>(db, id, input.expected_version, author).await?;
    Ok(DeletePayload {
        deleted_id: input.id,
    })
}

// ----- conditions and side effects ----------------------------------------------------

macro_rules! named_mutations {
    (
        $holder:ident, $entity:ident, $node:ident, $field:ident, $payload:ident, $create_input:ident, $update_input:ident,
        $what:literal, $create:ident, $update:ident, $publish:ident, $unpublish:ident, $archive:ident, $delete:ident
    ) => {
        #[doc = concat!("A new ", $what, "; it starts as a draft.")]
        #[derive(InputObject)]
        pub struct $create_input {
            /// Name (1 to 200 characters).
            pub name: String,
            /// URL name; derived from the name when omitted.
            pub slug: Option<String>,
            /// Markdown description.
            pub description: Option<String>,
        }

        #[doc = concat!("Changes to a ", $what, "; omitted fields stay as they are.")]
        #[derive(InputObject)]
        pub struct $update_input {
            #[doc = concat!("The ", $what, ".")]
            pub id: ID,
            /// The version the changes were made on; a stale one gives `CONFLICT` and writes nothing.
            pub expected_version: i32,
            /// Name.
            pub name: Option<String>,
            /// URL name.
            pub slug: Option<String>,
            /// Markdown description.
            pub description: Option<String>,
        }

        #[doc = concat!("Result of a ", $what, " mutation.")]
        #[derive(SimpleObject)]
        pub struct $payload {
            #[doc = concat!("The ", $what, " as saved.")]
            pub $field: $node,
        }

        impl $payload {
            fn of(model: $entity::Model) -> Self {
                Self {
                    $field: $node {
                        model,
                        visibility: Visibility::All,
                    },
                }
            }
        }

        #[doc = concat!("Writing ", $what, "s; editors.")]
        #[derive(Default)]
        pub struct $holder;

        #[doc = concat!("Writing ", $what, "s; editors.")]
        #[Object]
        impl $holder {
            #[doc = concat!("Creates a draft ", $what, ".")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $create(&self, ctx: &Context<'_>, #[graphql(desc = "The new document.")] input: $create_input) -> ApiResult<$payload> {
                let (request, db) = request(ctx)?;
                let author = request.viewer.author()?;
                let fields = NamedFields {
                    name: Some(Label::parse(&input.name, "input.name")?),
                    slug: input.slug.as_deref().map(|s| Slug::parse(Some(s), &input.name, "input.slug")).transpose()?,
                    description: input.description.map(|d| Markdown::parse(d, "input.description")).transpose()?,
                };
                Ok($payload::of(edit::create_named::<$entity::Entity>(db, media_addresses(ctx)?, fields, author).await?))
            }

            #[doc = concat!("Saves changes to a ", $what, " if `expectedVersion` is current. A save that changes nothing writes nothing and answers it as it is.")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $update(&self, ctx: &Context<'_>, #[graphql(desc = "The changes.")] input: $update_input) -> ApiResult<$payload> {
                let (request, db) = request(ctx)?;
                let author = request.viewer.author()?;
                let id = validate::id(&input.id, "input.id")?;
                let name = input.name.as_deref();
                let fields = NamedFields {
                    name: name.map(|n| Label::parse(n, "input.name")).transpose()?,
                    slug: input.slug.as_deref().map(|s| Slug::parse(Some(s), name.unwrap_or_default(), "input.slug")).transpose()?,
                    description: input.description.map(|d| Markdown::parse(d, "input.description")).transpose()?,
                };
                Ok($payload::of(edit::update_named::<$entity::Entity>(db, media_addresses(ctx)?, id, input.expected_version, fields, author, edit::Recorded::update()).await?))
            }

            #[doc = concat!("Publishes a ", $what, ".")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $publish(&self, ctx: &Context<'_>, #[graphql(desc = "The document and version.")] input: DocumentVersionInput) -> ApiResult<$payload> {
                let transition = Transition::publish(false);
                self.change(ctx, input, transition).await
            }

            #[doc = concat!("Takes a ", $what, " back to draft; refused while published topics link to it.")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $unpublish(&self, ctx: &Context<'_>, #[graphql(desc = "The document and version.")] input: DocumentVersionInput) -> ApiResult<$payload> {
                self.change(ctx, input, Transition::Unpublish).await
            }

            #[doc = concat!("Archives a ", $what, "; refused while published topics link to it.")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $archive(&self, ctx: &Context<'_>, #[graphql(desc = "The document and version.")] input: DocumentVersionInput) -> ApiResult<$payload> {
                self.change(ctx, input, Transition::Archive).await
            }

            #[doc = concat!("Deletes a ", $what, " (and draft topics' links to it); refused while published topics link to it. Its history remains.")]
            #[graphql(guard = "RoleGuard::ContentWrite")]
            async fn $delete(&self, ctx: &Context<'_>, #[graphql(desc = "The document and version.")] input: DocumentVersionInput) -> ApiResult<DeletePayload> {
                delete_document::<$entity::Entity>(ctx, input).await
            }
        }

        impl $holder {
            async fn change(&self, ctx: &Context<'_>, input: DocumentVersionInput, transition: Transition) -> ApiResult<$payload> {
                Ok($payload::of(change_state::<$entity::Entity>(ctx, input, transition).await?))
            }
        }
    };
}

named_mutations!(
    ConditionMutations,
    condition,
    Condition,
    condition,
    ConditionPayload,
    CreateConditionInput,
    UpdateConditionInput,
    "condition",
    create_condition,
    update_condition,
    publish_condition,
    unpublish_condition,
    archive_condition,
    delete_condition
);
named_mutations!(
    SideEffectMutations,
    side_effect,
    SideEffect,
    side_effect,
    SideEffectPayload,
    CreateSideEffectInput,
    UpdateSideEffectInput,
    "side effect",
    create_side_effect,
    update_side_effect,
    publish_side_effect,
    unpublish_side_effect,
    archive_side_effect,
    delete_side_effect
);

// ----- revisions ----------------------------------------------------------------------

/// A revision to bring back.
#[derive(InputObject)]
pub struct RestoreRevisionInput {
    /// The revision (from `revisions`).
    pub revision_id: ID,
    /// The document's current version; a stale one gives `CONFLICT`.
    pub expected_version: i32,
}

/// Any document.
#[derive(Union)]
pub enum Document {
    /// A topic.
    Topic(Topic),
    /// A condition.
    Condition(Condition),
    /// A side effect.
    SideEffect(SideEffect),
}

/// Result of `restoreRevision`.
#[derive(SimpleObject)]
pub struct RestoreRevisionPayload {
    /// The document as saved, with the restored content as a new version.
    pub document: Document,
}

/// History; editors.
#[derive(Default)]
pub struct RevisionMutations;

/// History; editors.
#[Object]
impl RevisionMutations {
    /// Brings the content of an old revision back as a new version; the status stays as it
    /// is and history is never rewritten.
    #[graphql(guard = "RoleGuard::ContentWrite")]
    async fn restore_revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The revision and the document's current version.")]
        input: RestoreRevisionInput,
    ) -> ApiResult<RestoreRevisionPayload> {
        let (request, db) = request(ctx)?;
        let author = request.viewer.author()?;
        let revision = validate::id(&input.revision_id, "input.revisionId")?;
        let visibility = Visibility::All;
        let document = match edit::restore(
            db,
            media_addresses(ctx)?,
            revision,
            input.expected_version,
            author,
        )
        .await?
        {
            Restored::Topic(model) => Document::Topic(Topic { model, visibility }),
            Restored::Condition(model) => Document::Condition(Condition { model, visibility }),
            Restored::SideEffect(model) => Document::SideEffect(SideEffect { model, visibility }),
        };
        Ok(RestoreRevisionPayload { document })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_mutations_are_known_by_their_type() {
        let names = session_mutations();
        for name in ["login", "refreshSession", "logout", "changePassword"] {
            assert!(names.contains(name), "{name} in {names:?}");
        }
        assert_eq!(names.len(), 4, "{names:?}");
        let document = crate::graphql::nesting::parse(
            "mutation { login(input: {email: \"a\", password: \"b\"}) { accessToken } \
             createFirstAdmin(input: {setupCode: \"c\", email: \"a\", displayName: \"d\", password: \"p\"}) { accessToken } }",
            32,
        )
        .expect("parses");
        let operation = crate::graphql::limits::select_operation(&document, None).expect("one");
        assert!(
            changes_content(operation),
            "createFirstAdmin changes setupStatus"
        );
        let document = crate::graphql::nesting::parse(
            "mutation { logout(input: {refreshToken: \"r\"}) { signedOut } }",
            32,
        )
        .expect("parses");
        let operation = crate::graphql::limits::select_operation(&document, None).expect("one");
        assert!(!changes_content(operation));
    }
}
