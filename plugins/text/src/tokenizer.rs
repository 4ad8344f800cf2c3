//! A HuggingFace tokenizer folder: `tokenizer.json` plus the special tokens,
//! chat template and end-of-generation ids of its config files.

use std::ops::Range;
use std::path::Path;

use entropo_core::types::Message;
use serde_json::{Map, Value};

use crate::error::{Result, TextError};
use crate::hf_config;
use crate::template::{ChatTemplate, RenderOptions};

const TOKENIZER_FILE: &str = "tokenizer.json";
const CONFIG_FILE: &str = "tokenizer_config.json";
const TEMPLATE_FILE: &str = "chat_template.jinja";
const GENERATION_FILE: &str = "generation_config.json";

/// Token ids of a text with each token's byte range in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The token ids.
    pub ids: Vec<u32>,
    /// For each token, the bytes of the text it came from (empty for tokens
    /// the post-processor added, such as a BOS).
    pub offsets: Vec<Range<usize>>,
}

/// A tokenizer for a chat model, loaded from a HuggingFace model folder or
/// trained with [`train_bpe`](crate::train_bpe).
///
/// ```
/// use entropo_text::{Tokenizer, train_bpe};
/// let tok: Tokenizer = train_bpe(&["def f(x):\n    return x + 1\n"], 300, &[]).unwrap();
/// let ids = tok.encode("return x", false).unwrap();
/// assert_eq!(tok.decode(&ids, false).unwrap(), "return x");
/// assert_eq!(tok.eos_token(), Some("<|im_end|>"));
/// assert_eq!(tok.eos_token_ids(), [tok.token_to_id("<|im_end|>").unwrap()]);
///
/// let dir = tempfile::tempdir().unwrap();
/// tok.save(dir.path()).unwrap();
/// let again = Tokenizer::from_dir(dir.path()).unwrap();
/// assert_eq!(again.encode("return x", false).unwrap(), ids);
/// ```
#[derive(Debug, Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// `tokenizer_config.json` as read, written back by `save`.
    config: Map<String, Value>,
    /// `generation_config.json` as read, when there was one.
    generation_config: Option<Map<String, Value>>,
    bos_token: Option<String>,
    eos_token: Option<String>,
    chat_template: Option<ChatTemplate>,
    eos_token_ids: Vec<u32>,
    vocab_size: usize,
}

impl Tokenizer {
    /// Loads a HuggingFace model folder: `tokenizer.json` and
    /// `tokenizer_config.json` (both required), `chat_template.jinja` (which
    /// wins over the config's `chat_template`) and `generation_config.json`
    /// when present. Padding and truncation stored in `tokenizer.json` are
    /// turned off. Errors name the file and field at fault.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let bytes = std::fs::read(&tokenizer_path).map_err(|source| TextError::Io {
            path: tokenizer_path.clone(),
            source,
        })?;
        let inner =
            tokenizers::Tokenizer::from_bytes(&bytes).map_err(|e| TextError::TokenizerFile {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            })?;

        let config_path = dir.join(CONFIG_FILE);
        let config = hf_config::read_object(&config_path)?;
        let template_path = dir.join(TEMPLATE_FILE);
        let template = match std::fs::read_to_string(&template_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                hf_config::chat_template(&config, &config_path)?
            }
            Err(source) => {
                return Err(TextError::Io {
                    path: template_path,
                    source,
                });
            }
        };
        let generation_path = dir.join(GENERATION_FILE);
        let generation_config = if generation_path.exists() {
            Some(hf_config::read_object(&generation_path)?)
        } else {
            None
        };
        Self::new(inner, config, generation_config, template, dir)
    }

    /// Assembles a tokenizer; `dir` is only used to name files in errors.
    pub(crate) fn new(
        mut inner: tokenizers::Tokenizer,
        config: Map<String, Value>,
        generation_config: Option<Map<String, Value>>,
        template: Option<String>,
        dir: &Path,
    ) -> Result<Self> {
        let config_path = dir.join(CONFIG_FILE);
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| TextError::TokenizerFile {
                path: dir.join(TOKENIZER_FILE),
                message: e.to_string(),
            })?;
        let bos_token = hf_config::token(&config, "bos_token", &config_path)?;
        let eos_token = hf_config::token(&config, "eos_token", &config_path)?;
        let known = |field: &str, token: &Option<String>| -> Result<Option<u32>> {
            let Some(token) = token else { return Ok(None) };
            match inner.token_to_id(token) {
                Some(id) => Ok(Some(id)),
                None => Err(TextError::UnknownToken {
                    path: config_path.clone(),
                    field: field.into(),
                    token: token.clone(),
                }),
            }
        };
        known("bos_token", &bos_token)?;
        let mut eos_token_ids: Vec<u32> = known("eos_token", &eos_token)?.into_iter().collect();
        if let Some(generation) = &generation_config {
            for id in hf_config::eos_token_ids(generation, &dir.join(GENERATION_FILE))? {
                if !eos_token_ids.contains(&id) {
                    eos_token_ids.push(id);
                }
            }
        }
        let vocab_size = inner
            .get_vocab(true)
            .into_values()
            .max()
            .map_or(0, |id| id as usize + 1);
        let mut tokenizer = Tokenizer {
            inner,
            config,
            generation_config,
            bos_token,
            eos_token,
            chat_template: None,
            eos_token_ids,
            vocab_size,
        };
        if let Some(source) = template {
            tokenizer.set_chat_template(source)?;
        }
        Ok(tokenizer)
    }

    /// Writes `tokenizer.json`, `tokenizer_config.json` (with the chat
    /// template as a string) and, if one was loaded, `generation_config.json`
    /// into `dir` (created if needed), so that [`Tokenizer::from_dir`] gives
    /// back an equivalent tokenizer. A `chat_template.jinja` already in `dir`
    /// would win over the config on loading, so it is overwritten with the
    /// same template (or removed when there is none).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| TextError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        self.inner
            .save(&tokenizer_path, false)
            .map_err(|e| TextError::TokenizerFile {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            })?;
        let mut config = self.config.clone();
        match &self.chat_template {
            Some(t) => config.insert("chat_template".into(), t.source().into()),
            None => config.remove("chat_template"),
        };
        hf_config::write_object(&dir.join(CONFIG_FILE), &config)?;
        let template_path = dir.join(TEMPLATE_FILE);
        if template_path.exists() {
            let io = |source| TextError::Io {
                path: template_path.clone(),
                source,
            };
            match &self.chat_template {
                Some(t) => std::fs::write(&template_path, t.source()).map_err(io)?,
                None => std::fs::remove_file(&template_path).map_err(io)?,
            }
        }
        if let Some(generation) = &self.generation_config {
            hf_config::write_object(&dir.join(GENERATION_FILE), generation)?;
        }
        Ok(())
    }

    /// Token ids of `text`. With `add_special_tokens` the post-processor's
    /// tokens (e.g. Llama's BOS) are added; chat renderings already contain
    /// them and are encoded without.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        Ok(self.encode_with_offsets(text, add_special_tokens)?.ids)
    }

    /// Token ids of `text` with the byte range each token came from.
    pub fn encode_with_offsets(&self, text: &str, add_special_tokens: bool) -> Result<Encoded> {
        let encoding = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| TextError::Tokenize(format!("encoding {} bytes: {e}", text.len())))?;
        Ok(Encoded {
            ids: encoding.get_ids().to_vec(),
            offsets: encoding.get_offsets().iter().map(|&(s, e)| s..e).collect(),
        })
    }

    /// The text of `ids`; special tokens are left out with
    /// `skip_special_tokens`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| TextError::Tokenize(format!("decoding {} ids: {e}", ids.len())))
    }

    /// One more than the largest token id, added tokens included: the size
    /// an embedding table needs (a model's own table may be padded larger).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The id of `token` (a vocabulary entry or an added token).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Every id that ends generation: the eos token's, then those of
    /// `generation_config.json`'s `eos_token_id` (without repeats).
    pub fn eos_token_ids(&self) -> &[u32] {
        &self.eos_token_ids
    }

    /// The BOS token text, if the config names one.
    pub fn bos_token(&self) -> Option<&str> {
        self.bos_token.as_deref()
    }

    /// The EOS token text, if the config names one.
    pub fn eos_token(&self) -> Option<&str> {
        self.eos_token.as_deref()
    }

    /// The chat template, if the folder has one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat_template.as_ref()
    }

    /// Replaces the chat template (e.g. with
    /// [`CHATML_TEMPLATE`](crate::CHATML_TEMPLATE) for a base model); it sees
    /// this tokenizer's `bos_token` and `eos_token`.
    pub fn set_chat_template(&mut self, source: impl Into<String>) -> Result<()> {
        let template = ChatTemplate::new(source)?
            .with_special_tokens(self.bos_token.as_deref(), self.eos_token.as_deref());
        self.chat_template = Some(template);
        Ok(())
    }

    /// Renders `messages` with the chat template.
    pub fn render_chat(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        options: &RenderOptions,
    ) -> Result<String> {
        self.chat_template
            .as_ref()
            .ok_or(TextError::NoChatTemplate)?
            .render(messages, add_generation_prompt, options)
    }

    /// The texts of the added tokens marked special (`<|im_end|>`…), which
    /// user text never contains once tokenized.
    pub(crate) fn special_tokens(&self) -> Vec<String> {
        let mut tokens: Vec<(u32, String)> = self
            .inner
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, t)| (id, t.content))
            .collect();
        tokens.sort();
        tokens.into_iter().map(|(_, t)| t).collect()
    }

    /// The text of token `id`, if it exists.
    pub(crate) fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}
