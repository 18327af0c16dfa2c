//! What timeline messages say, in English and Japanese: topics of
//! internal mail by role, orders and invoices with vendors and
//! customers, announcements, and the words of the scenarios. Ham and
//! attacks draw from pools that share their vocabulary on purpose.

use super::super::template::Lang;
use super::cast::Role;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// One of `pool`, or empty text when it is empty.
pub fn pick<'a>(rng: &mut ChaCha8Rng, pool: &[&'a str]) -> &'a str {
    pool.choose(rng).copied().unwrap_or("")
}

/// Internal topics: (subject, opening), by role and language. `{link}`
/// is a link the writer habitually sends, `{vendor}` a vendor.
pub fn internal_topic(role: Role, lang: Lang) -> &'static [(&'static str, &'static str)] {
    match (lang, role) {
        (Lang::En, Role::Finance) => &[
            ("Payment run this Thursday", "Hi {to},\n\nthe payment run is on Thursday; the {vendor} invoice is due and on the list. Can you check the remittance file before noon?\n\nThe sheet is here: {link}"),
            ("Month-end accruals", "Hi {to},\n\ncould you send me the accruals for {vendor} before Friday? The template is at {link}."),
            ("Wire transfer approvals", "Hi {to},\n\nthree wire transfers are waiting for approval in the bank portal, all for approved vendors. Details: {link}"),
            ("Budget review", "Hi {to},\n\nplease add your comments to the budget draft: {link}\n\nThanks"),
        ],
        (Lang::En, Role::Supply) => &[
            ("Delivery schedule next week", "Hi {to},\n\n{vendor} confirmed the delivery for Tuesday. Updated schedule: {link}"),
            ("Cold store capacity", "Hi {to},\n\nwe are at 85% in cold store 2. Can we move the {vendor} pallets? Plan: {link}"),
            ("Purchase order check", "Hi {to},\n\ncan you double-check the quantities on the {vendor} purchase order before I send it? {link}"),
        ],
        (Lang::En, Role::Sales) => &[
            ("Customer visit notes", "Hi {to},\n\nnotes from this week's customer visits are in {link}. Two new listings likely."),
            ("Price list update", "Hi {to},\n\nthe new price list draft is at {link}; comments by Wednesday please."),
            ("Promotion plan", "Hi {to},\n\nhere is the promotion plan for next month: {link}"),
        ],
        (Lang::En, Role::Hr) | (Lang::En, Role::It) => &[
            ("Onboarding next Monday", "Hi {to},\n\ntwo new starters on Monday; their checklist is at {link}."),
            ("Laptop refresh", "Hi {to},\n\nyour laptop is due for replacement. Pick a slot here: {link}"),
            ("Training schedule", "Hi {to},\n\nthe training schedule for the quarter is on {link}."),
        ],
        (Lang::En, _) => &[
            ("Quick sync", "Hi {to},\n\ndo you have 15 minutes tomorrow to go through the plan? Agenda: {link}"),
            ("Meeting notes", "Hi {to},\n\nnotes from today's meeting: {link}"),
            ("Quarterly review slides", "Hi {to},\n\nthe slides for the quarterly review are at {link}. Please add your section."),
            ("Food safety audit", "Hi {to},\n\nthe audit is scheduled for next week; the checklist is at {link}."),
        ],
        (Lang::Ja, Role::Finance) => &[
            ("今週の支払いについて", "{to}さん\n\nお疲れ様です。今週の支払い予定に{vendor}の請求書を入れました。振込データの確認をお願いします。\n\n{link}"),
            ("月末締めの件", "{to}さん\n\nお疲れ様です。月末締めの資料を共有します。ご確認ください。\n{link}"),
            ("経費精算の確認", "{to}さん\n\n経費精算の確認をお願いします。\n{link}"),
        ],
        (Lang::Ja, Role::Supply) => &[
            ("来週の配送予定", "{to}さん\n\nお疲れ様です。{vendor}から来週の配送予定が届きました。\n{link}"),
            ("在庫状況の共有", "{to}さん\n\n冷凍庫の在庫状況を共有します。\n{link}"),
        ],
        (Lang::Ja, _) => &[
            ("会議資料の共有", "{to}さん\n\nお疲れ様です。明日の会議資料を共有します。\n{link}"),
            ("打ち合わせの件", "{to}さん\n\n打ち合わせの日程調整をお願いします。\n{link}"),
            ("品質会議の議事録", "{to}さん\n\n品質会議の議事録です。ご確認ください。\n{link}"),
        ],
    }
}

/// A short reply in a thread.
pub fn reply_text(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Thanks, looks good to me.",
            "Thanks {to}, I will take a look this afternoon.",
            "Done, see the updated version.",
            "Agreed. Let's go ahead.",
            "Noted, thank you.",
        ],
        Lang::Ja => &[
            "ありがとうございます。確認しました。",
            "承知しました。午後に確認します。",
            "対応しました。ご確認ください。",
            "了解です。よろしくお願いします。",
        ],
    }
}

/// What staff write to a vendor to open a thread.
pub fn to_vendor(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("Order {po}", "Hello {to},\n\nplease find our order {po} for {product}; delivery to the Rotterdam warehouse next week.\n\nKind regards"),
            ("Delivery {po}", "Hello {to},\n\ncould you confirm the delivery date for order {po}?\n\nThanks"),
            ("Quote for {product}", "Hello {to},\n\ncould you send us a quote for {product} for the next quarter?\n\nBest regards"),
        ],
        Lang::Ja => &[
            ("注文書 {po}", "{to}様\n\nいつもお世話になっております。注文書{po}をお送りします。ご確認のほどよろしくお願いいたします。"),
            ("納期確認 {po}", "{to}様\n\nお世話になっております。{po}の納期についてご確認いただけますでしょうか。"),
        ],
    }
}

/// A vendor's answer in a thread.
pub fn vendor_reply(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Hello {to},\n\nthank you for the order. Delivery is confirmed for next Tuesday.\n\nOrder status: {link}",
            "Hello {to},\n\nwe can deliver on Thursday morning. Details are on our portal: {link}",
            "Hello {to},\n\nthe quote is attached on our portal: {link}\n\nKind regards",
        ],
        Lang::Ja => &[
            "{to}様\n\nいつもお世話になっております。ご注文ありがとうございます。来週火曜日に納品予定です。\n{link}",
            "{to}様\n\nお世話になっております。納期は木曜日午前となります。\n{link}",
        ],
    }
}

/// A vendor's invoice: `{bank}` is its account.
pub fn invoice(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("Invoice {inv}", "Hello {to},\n\nplease find invoice {inv} for order {po}, {amount}, payment due in 30 days.\n\nRemittance to {bank}.\n\nView the invoice: {link}\n\nKind regards"),
            ("Invoice {inv} for {po}", "Dear {to},\n\ninvoice {inv} ({amount}) is available on our portal: {link}\n\nPlease make payment to our usual account: {bank}.\n\nThank you"),
        ],
        Lang::Ja => &[
            ("請求書送付のご案内 {inv}", "{to}様\n\nいつもお世話になっております。請求書{inv}（{amount}）をお送りします。\nお振込先：{bank}\n\n{link}\n\nよろしくお願いいたします。"),
        ],
    }
}

/// A customer's message to the org.
pub fn customer(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("Order for next week", "Hi {to},\n\nwe would like to order 40 cases of {product} for delivery next week. Can you confirm?\n\nThanks"),
            ("Question about {product}", "Hello {to},\n\ndo you have updated allergen sheets for {product}? Our spec is here: {link}"),
            ("Delivery issue", "Hi {to},\n\ntwo cases of {product} arrived damaged this morning. Photos: {link}"),
        ],
        Lang::Ja => &[
            ("来週分の発注", "{to}様\n\nいつもお世話になっております。来週分として{product}を30ケース発注したいです。ご確認ください。"),
            ("商品規格書のお願い", "{to}様\n\nお世話になっております。{product}の規格書をお送りいただけますか。\n{link}"),
        ],
    }
}

/// Staff answering a customer.
pub fn to_customer(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Hi {to},\n\nthank you, confirmed for Wednesday. The order confirmation is here: {link}\n\nBest regards",
            "Hi {to},\n\nsorry about that; we will send replacements tomorrow. Details: {link}",
            "Hi {to},\n\nplease find the documents at {link}.",
        ],
        Lang::Ja => &[
            "{to}様\n\nいつもお世話になっております。水曜日の納品で承りました。\n{link}",
            "{to}様\n\nお世話になっております。資料をお送りします。\n{link}",
        ],
    }
}

/// Announcements to many staff: (subject, text).
pub fn announcement(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("Town hall on Friday", "Hello all,\n\nthe quarterly town hall is on Friday at 15:00. Agenda and dial-in: {link}"),
            ("Office closed on Monday", "Hello all,\n\nthe office is closed on Monday for maintenance. Details: {link}"),
            ("Planned maintenance this weekend", "Hello all,\n\nsome systems will be unavailable on Saturday night. Status page: {link}"),
            ("New expense policy", "Hello all,\n\nthe updated expense policy is published on the intranet: {link}"),
        ],
        Lang::Ja => &[
            ("全社会議のお知らせ", "各位\n\nお疲れ様です。金曜日15時より全社会議を行います。\n{link}"),
            ("システムメンテナンスのお知らせ", "各位\n\n土曜日夜にシステムメンテナンスを行います。\n{link}"),
        ],
    }
}

/// Newsletter texts: (subject, text).
pub fn newsletter(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => &[
            ("This week in cold chain", "This week: reefer rates, port congestion and new labelling rules.\n\nRead online: {link}"),
            ("Market update", "Prices for {product} rose 3% this month. Full report: {link}"),
            ("Industry events", "Upcoming trade fairs and webinars: {link}"),
        ],
        Lang::Ja => &[
            ("今週の業界ニュース", "今週の食品業界ニュースをお届けします。\n{link}"),
        ],
    }
}

/// Words of each scenario, attacks and hard ham.
pub mod scenario {
    use super::Lang;

    /// A takeover's request: (subject, text); `{account}` an account.
    pub fn takeover(lang: Lang, ask: usize) -> (&'static str, &'static str) {
        match (lang, ask % 3) {
            (Lang::En, 0) => ("Urgent payment today", "Hi {to},\n\nI need you to process a wire transfer today to a new supplier for the trial order; invoice is due and they will not ship otherwise. Beneficiary details: {account}.\n\nPlease confirm once sent. I am in meetings all day."),
            (Lang::En, 1) => ("Quick favour", "Hi {to},\n\nare you at your desk? I need a favour: please buy 5 Apple gift cards of 200 each for a client thank-you, scratch off the back and send me the codes. I will reimburse you."),
            (Lang::En, _) => ("Document for review", "Hi {to},\n\nI have shared a document with you for review before the meeting. Please sign in with your work account to view it: {link}\n\nThanks"),
            (Lang::Ja, 0) => ("至急のお願い", "{to}さん\n\nお疲れ様です。本日中に新しい取引先への振込をお願いできますか。請求書の支払期限が今日です。\n振込先：{account}\n\n会議中のためメールで連絡ください。"),
            (Lang::Ja, 1) => ("お願いがあります", "{to}さん\n\n今お時間ありますか。取引先へのお礼としてアマゾンギフト券を5枚購入して、カードの番号を写真で送ってください。"),
            (Lang::Ja, _) => ("資料のご確認", "{to}さん\n\n会議の前に資料をご確認ください。サインインして閲覧してください。\n{link}"),
        }
    }

    /// A compromised mailbox's credential wave to many colleagues.
    pub fn phish_wave(lang: Lang) -> (&'static str, &'static str) {
        match lang {
            Lang::En => ("Shared: updated holiday schedule", "Hello all,\n\nI have shared a document with you: the updated holiday schedule. Sign in with your work account to view the document:\n\n{link}\n\nThanks"),
            Lang::Ja => ("【共有】休暇スケジュール", "各位\n\n休暇スケジュールを共有しました。社内アカウントでサインインして確認してください。\n\n{link}"),
        }
    }

    /// The IT desk's genuine password-expiry notice.
    pub fn it_notice(lang: Lang) -> (&'static str, &'static str) {
        match lang {
            Lang::En => ("Your password will expire in 7 days", "Hello {to},\n\nyour Kestrel password will expire in 7 days. To keep your account working, update your password on the company sign-in page: {link}\n\nIT never asks for your password by email.\n\nIT Service Desk"),
            Lang::Ja => ("パスワードの有効期限のお知らせ", "{to}さん\n\nパスワードの有効期限が7日後に切れます。社内サインインページで更新してください。\n{link}\n\n情報システム担当"),
        }
    }

    /// HR's genuine gift-card programme.
    pub fn hr_gift_card(lang: Lang) -> (&'static str, &'static str) {
        match lang {
            Lang::En => ("Thank-you gift cards for the team", "Hello all,\n\nto thank everyone for a record quarter, each employee will receive a 50 gift card. Choose your card (Amazon gift card or supermarket voucher) on the benefits site by Friday: {link}\n\nKestrel People Team"),
            Lang::Ja => ("ギフトカード配布のお知らせ", "各位\n\n今期の感謝を込めて、全社員にギフトカードを配布します。福利厚生サイトから選択してください。\n{link}\n\n人事部"),
        }
    }

    /// An employee's note forwarding a phish to the security desk.
    pub fn forward_note(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "Hi Security,\n\nthis arrived this morning and looks like phishing. I did not click the link. Forwarding as per policy.\n\n{sender}",
            Lang::Ja => "セキュリティ窓口御中\n\n本日届いたメールですが、フィッシングの疑いがあります。リンクはクリックしていません。\n\n{sender}",
        }
    }

    /// The phish being forwarded: (subject, text).
    pub fn forwarded_phish(lang: Lang) -> (&'static str, &'static str) {
        match lang {
            Lang::En => ("Action required: mailbox is almost full", "Your mailbox is almost full. Verify your account within 24 hours or your account will be suspended: {link}"),
            Lang::Ja => ("【重要】アカウント確認のお願い", "アカウントが停止されます。24時間以内にログインして本人確認をしてください。\n{link}"),
        }
    }

    /// A vendor announcing changed bank details: `{account}`, `{link}`.
    pub fn bank_change(lang: Lang, variant: usize) -> &'static str {
        match (lang, variant % 2) {
            (Lang::En, 0) => "Hello {to},\n\nplease note that we have changed our bank. From the next invoice please remit to our new bank account: {account}.\n\nOur letter confirming the new bank details is here: {link}\n\nKind regards",
            (Lang::En, _) => "Dear {to},\n\nour bank details have changed following a merger of our banks. New account details: {account}. Please update your records before the next payment run.\n\nConfirmation letter: {link}\n\nThank you",
            (Lang::Ja, _) => "{to}様\n\nいつもお世話になっております。このたび振込先口座の変更がございました。次回のお支払いより新しい口座へお振込みをお願いいたします。\n新口座：{account}\n\n変更のご案内：{link}",
        }
    }

    /// The CFO approving a payment in a thread.
    pub fn cfo_approval(lang: Lang) -> &'static str {
        match lang {
            Lang::En => "Hi {to},\n\napproved. Please process the payment to {vendor} with today's wire transfer batch.\n\nThanks",
            Lang::Ja => "{to}さん\n\n承認します。本日の振込で{vendor}への支払いを処理してください。",
        }
    }

    /// The finance request the CFO answers.
    pub fn approval_request(lang: Lang) -> (&'static str, &'static str) {
        match lang {
            Lang::En => ("Approval: payment to {vendor}", "Hi {to},\n\ncould you approve the payment of invoice {inv} to {vendor} ({amount})? It is in the payment run, details on {link}.\n\nThanks"),
            Lang::Ja => ("承認依頼：{vendor}への支払い", "{to}さん\n\n{vendor}への支払い（請求書{inv}、{amount}）の承認をお願いします。\n{link}"),
        }
    }

    /// An impersonator writing from free mail as an executive.
    pub fn impersonation(lang: Lang, ask: usize) -> (&'static str, &'static str) {
        match (lang, ask % 2) {
            (Lang::En, 0) => ("Confidential", "{to},\n\nI need you to handle a confidential wire transfer today for an acquisition. Please do not discuss it with anyone yet. Let me know when you are ready and I will send the beneficiary details.\n\nSent from my phone"),
            (Lang::En, _) => ("Are you available?", "{to},\n\nare you available? I need you to purchase some gift cards for a client today. Reply with your cell number.\n\nSent from my phone"),
            (Lang::Ja, 0) => ("至急", "{to}さん\n\n極秘の案件で、本日中に海外送金をお願いしたいです。誰にも話さないでください。準備ができたら連絡をください。"),
            (Lang::Ja, _) => ("お願いがあります", "{to}さん\n\n今お時間ありますか。取引先向けにギフトカードを購入してほしいです。携帯番号を教えてください。"),
        }
    }
}
