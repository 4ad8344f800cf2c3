//! The SDK's conformance suite, run on every built-in loss exactly as a
//! third-party plugin runs it on its own.

use entropo_core::Loss;
use entropo_losses::*;

entropo_sdk::loss_conformance!(sft, || Box::new(Sft::new(SftParams::default()).unwrap()) as Box<dyn Loss>);
entropo_sdk::loss_conformance!(dpo, || Box::new(Dpo::new(DpoParams::default()).unwrap()) as Box<dyn Loss>);
entropo_sdk::loss_conformance!(kto, || Box::new(Kto::new(KtoParams::default()).unwrap()) as Box<dyn Loss>);
entropo_sdk::loss_conformance!(entropo_dpo, || {
    Box::new(EntropoDpo::new(EntropoDpoParams::default()).unwrap()) as Box<dyn Loss>
});
entropo_sdk::loss_conformance!(entropo_kto_paper, || {
    Box::new(EntropoKto::new(EntropoKtoParams::default()).unwrap()) as Box<dyn Loss>
});
entropo_sdk::loss_conformance!(entropo_kto_authors_code, || {
    let params = EntropoKtoParams { variant: EntropoKtoVariant::AuthorsCode, ..Default::default() };
    Box::new(EntropoKto::new(params).unwrap()) as Box<dyn Loss>
});
