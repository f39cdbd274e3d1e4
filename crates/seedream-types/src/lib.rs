//! Transport-free models of the Seedream / SeedEdit image API.
//!
//! - [`GenerateRequest`] (`POST /images/generations`, JSON) and [`EditRequest`] (`POST /images/edits`,
//!   multipart, described as [`FormPart`]s so any transport can encode it);
//! - [`ImagesResponse`], [`StreamEvent`] and [`ErrorEnvelope`] for what comes back;
//! - [`ImageOptions`], the fields both share, set once for either;
//! - the model [`catalog`]: one data row per model family with everything it takes;
//! - per-model validation ([`GenerateRequest::validate`]) with field-path errors, read from the catalog,
//!   and [`check`] for request JSON (wrong types become violations too);
//! - JSON Schema of the wire types ([`schema::all`]).
//!
//! No I/O, no async, no HTTP types. Parsing is lenient (unknown fields and values are kept and sent
//! back unchanged); the strict rules live in validation.
//!
//! ```
//! use seedream_types::{GenerateRequest, SEEDREAM_4_0, SizePreset};
//!
//! let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn")
//!     .with_size(SizePreset::TwoK)
//!     .with_max_images(3);
//! assert!(request.validate().is_ok());
//! ```

#![warn(missing_docs)]

mod wire;

pub mod catalog;
pub mod check;
pub mod edit;
pub mod error;
pub mod image;
pub mod markup;
pub mod model_list;
pub mod options;
pub mod provenance;
pub mod request;
pub mod response;
pub mod schema;
pub mod size;
pub mod stream;
pub mod suggest;
pub mod time;
pub mod validate;

pub use catalog::{
    ModelFamily, SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SEEDREAM_4_5, SEEDREAM_5_0_FLASH, SEEDREAM_5_0_LITE,
    SEEDREAM_5_0_PRO, SEEDREAM_5_5,
};
pub use check::{CheckError, Checked};
pub use edit::{EditRequest, FormPart, ImageFile, PartValue};
pub use error::{ApiErrorBody, ErrorClass, ErrorEnvelope, ModeratedInput, Moderation};
pub use image::{DataUrl, ImageFormat};
pub use model_list::{ModelDomain, ModelInfo, ModelList, ModelStatus, TaskType};
pub use options::ImageOptions;
pub use request::{
    Background, GenerateRequest, ImageCount, ImageInput, OptimizePromptMode, OptimizePromptOptions, OutputFormat,
    ResponseFormat, SequentialImageGeneration, SequentialImageGenerationOptions, Thinking, Tool, ToolType,
};
pub use response::{BoundingBox, FailedImage, GeneratedImage, ImageItem, ImagesResponse, ParseError, ToolUsage, Usage};
pub use size::{Dimensions, Size, SizeForm, SizePreset};
pub use stream::{Completed, PartialFailed, PartialSucceeded, StreamEvent, StreamGatherer};
pub use validate::{ValidationError, Violation};
