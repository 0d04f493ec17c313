//! Orders with VNPost for a dossier (docs/PEERS.md §2.2, §2.4): which ones a dossier
//! has, queuing a new one or a cancellation, and the order itself — the applicant and
//! the desk as sender and receiver with VNPost's numbers for their units, the fees
//! still due as cash on delivery, the contents line.

use jiff::Timestamp;
use motcua_adapters::vnpost::{Direction, OrderParty, OrderRequest, order::contents};
use motcua_schemas::{Address, Dossier, OrderKind, OrderState, PostOrder, S10ItemCode};

use crate::outbox::{self, Destination, JobKind};
use crate::settings::{
    Settings,
    vnpost::{Cod, VnpostSettings},
};
use crate::store::{Key, StoreError, Tx};

/// The index key from an `OrderNumber` to its dossier.
pub fn order_key(number: &str) -> Key {
    crate::store::keys::vnpost_order(number)
}

/// The `OrderNumber` of the dossier's order of `kind` (`letter`: the n-th letter).
pub fn number(dossier: &Dossier, kind: OrderKind, letter: u32, vnpost: &VnpostSettings) -> String {
    let code = dossier.code.as_str();
    match kind {
        OrderKind::Return => code.to_owned(),
        OrderKind::Collection => format!("{code}{}", vnpost.collection_suffix),
        OrderKind::Letter => format!("{code}{}{letter}", vnpost.letter_suffix),
    }
}

/// Records an order of `kind` on the dossier and queues its creation, unless the
/// dossier has a live one of that number already. Returns the order's number.
pub fn request(
    tx: &mut Tx<'_>,
    dossier: &mut Dossier,
    kind: OrderKind,
    letter: u32,
    vnpost: &VnpostSettings,
    now: Timestamp,
) -> Result<String, StoreError> {
    let number = number(dossier, kind, letter, vnpost);
    let live = dossier.postal.orders.iter().any(|o| o.number == number && o.state != OrderState::Cancelled);
    if live {
        return Ok(number);
    }
    dossier.postal.orders.retain(|o| o.number != number);
    dossier.postal.orders.push(PostOrder {
        number: number.clone(),
        kind,
        item: None,
        state: OrderState::Requested,
        last_event: None,
        requested_at: Some(now),
    });
    tx.put(&order_key(&number), dossier.code.as_str().as_bytes().to_vec());
    let job = match kind {
        OrderKind::Collection => JobKind::CollectionOrder,
        OrderKind::Return => JobKind::ReturnOrder,
        OrderKind::Letter => JobKind::Letter { n: letter },
    };
    outbox::enqueue(tx, Destination::Postal, job, &dossier.code, now)?;
    Ok(number)
}

/// Queues the cancellation of every order of the dossier the post has not picked up
/// yet (the dossier was withdrawn, refused or stopped). Returns how many.
pub fn cancel_open(tx: &mut Tx<'_>, dossier: &Dossier, now: Timestamp) -> Result<usize, StoreError> {
    let open: Vec<String> = dossier
        .postal
        .orders
        .iter()
        .filter(|o| matches!(o.state, OrderState::Requested | OrderState::Created))
        .map(|o| o.number.clone())
        .collect();
    for number in &open {
        outbox::enqueue(tx, Destination::Postal, JobKind::CancelOrder { number: number.clone() }, &dossier.code, now)?;
    }
    Ok(open.len())
}

fn party(
    settings: &Settings,
    vnpost: &VnpostSettings,
    name: &str,
    address: &Address,
    tel: Option<&str>,
    email: Option<&str>,
) -> Result<OrderParty, String> {
    let place = vnpost.numbers.place(&settings.network, address)?;
    if vnpost.ward_fields.is_some() && place.ward.is_none() {
        let unit = address.commune.as_ref().map_or_else(|| "the address's commune".to_owned(), |c| format!("unit {c}"));
        return Err(format!("{unit} has no VNPost ward in [postal.vnpost] codes, and orders carry wards"));
    }
    let tel = tel.filter(|t| !t.is_empty()).ok_or_else(|| format!("{name}: VNPost needs a telephone number"))?;
    Ok(OrderParty {
        name: name.to_owned(),
        address: address.detail.clone(),
        tel: tel.to_owned(),
        email: email.map(str::to_owned),
        province: place.province,
        district: place.district,
        ward: place.ward,
    })
}

/// The desk's end of an order.
fn desk_party(dossier: &Dossier, settings: &Settings, vnpost: &VnpostSettings) -> Result<OrderParty, String> {
    let desk = &dossier.desk;
    let at =
        vnpost.desks.get(desk).ok_or_else(|| format!("desk {desk} has no postal address in [postal.vnpost] desks"))?;
    let name = settings.network.desk(desk).map_or(desk.as_str(), |d| d.name.as_str());
    let unit = at.unit.parse().map_err(|_| format!("desk {desk}: {} is not a unit code", at.unit))?;
    let address = Address { detail: at.address.clone(), province: None, district: None, commune: Some(unit) };
    party(settings, vnpost, name, &address, Some(&at.phone), at.email.as_deref())
}

/// The order of the dossier's `kind` (a letter's contents given), with `item` from
/// the pool if the operator issues codes in advance. An error says what is missing.
pub fn build(
    d: &Dossier,
    kind: OrderKind,
    letter: u32,
    settings: &Settings,
    vnpost: &VnpostSettings,
    item: Option<&S10ItemCode>,
) -> Result<OrderRequest, String> {
    let a = &d.applicant;
    let desk = desk_party(d, settings, vnpost)?;
    let first_part = d.documents.first().map_or("", |doc| doc.name.as_str());
    let (sender, receiver, direction, cod) = match kind {
        OrderKind::Collection => {
            let home = a.address.as_ref().ok_or("the applicant gave no address to collect from")?;
            let phone = a.phone.as_ref().map(|p| p.as_str());
            let applicant = party(settings, vnpost, &a.name, home, phone, a.email.as_deref())?;
            (applicant, desk, Direction::Collection, 0)
        }
        OrderKind::Return | OrderKind::Letter => {
            let to = d.return_address.clone().or_else(|| {
                a.address.clone().map(|address| motcua_schemas::ReturnAddress {
                    address,
                    recipient: a.name.clone(),
                    phone: a.phone.clone(),
                })
            });
            let to = to.ok_or("the dossier has no address to return to")?;
            let phone = to.phone.as_ref().or(a.phone.as_ref()).map(|p| p.as_str());
            let receiver = party(settings, vnpost, &to.recipient, &to.address, phone, a.email.as_deref())?;
            let due: u64 = if kind == OrderKind::Return && vnpost.cod == Cod::FeesDue {
                d.fees.iter().filter(|f| !f.paid).map(|f| f.amount).fold(0u64, u64::saturating_add)
            } else {
                0
            };
            (desk, receiver, Direction::Return, due)
        }
    };
    let description = match kind {
        OrderKind::Collection => format!("Thu gom hồ sơ {} tại nhà người nộp", d.code),
        OrderKind::Return => format!("Kết quả giải quyết thủ tục hành chính, hồ sơ {}", d.code),
        OrderKind::Letter => format!("Văn bản xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04), hồ sơ {}", d.code),
    };
    Ok(OrderRequest {
        customer_code: vnpost.customer_code.clone(),
        order_number: number(d, kind, letter, vnpost),
        item_code: item.map(ToString::to_string),
        sender,
        receiver,
        cod_amount: cod,
        contents: contents(d.code.as_str(), &d.procedure.name, first_part, direction, &a.id_number),
        description,
        ward_fields: vnpost.ward_fields.as_ref().map(|w| (w.sender.clone(), w.receiver.clone())),
        constants: vnpost.order_constants.clone(),
    })
}
