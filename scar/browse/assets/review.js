// The reviewer's decisions: {row id: {decision: "accept" | "reject", reason}}, kept in local storage
// under the site's id and exported as a review file (format documented in scar/browse/review.py).
"use strict";
window.SCARReview = function (storageKey, build) {
  let decisions = {};
  try {
    const saved = window.localStorage.getItem(storageKey);
    const parsed = saved ? JSON.parse(saved) : {};
    if (parsed && typeof parsed === "object") decisions = parsed;
  } catch (e) {
    decisions = {};
  }

  // False when the browser refuses to store them (the export still works).
  function save() {
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(decisions));
      return true;
    } catch (e) {
      return false;
    }
  }

  function get(id) { return decisions[id]; }

  // decision null clears it; a reason is kept only on a rejection.
  function set(id, decision) {
    if (decision === null) delete decisions[id];
    else decisions[id] = { decision: decision, reason: decision === "reject" && decisions[id] ? decisions[id].reason || "" : "" };
    return save();
  }

  function setReason(id, reason) {
    if (!decisions[id] || decisions[id].decision !== "reject") return true;
    decisions[id].reason = reason;
    return save();
  }

  function counts() {
    let accepted = 0, rejected = 0;
    for (const d of Object.values(decisions)) d.decision === "reject" ? rejected++ : accepted++;
    return { accepted: accepted, rejected: rejected };
  }

  function toDocument() {
    const out = {};
    for (const id of Object.keys(decisions).sort()) {
      const d = decisions[id];
      out[id] = d.reason ? { decision: d.decision, reason: d.reason } : { decision: d.decision };
    }
    return { format: "scar-review", version: 1, build: build, decisions: out };
  }

  // Merge a review file's decisions (they win); the number merged. Throws on a file of another kind.
  function merge(doc) {
    if (!doc || typeof doc !== "object" || (doc.format || "scar-review") !== "scar-review" || (doc.version || 1) !== 1
        || !doc.decisions || typeof doc.decisions !== "object") {
      throw new Error("not a SCaR review file (version 1)");
    }
    let n = 0;
    for (const [id, entry] of Object.entries(doc.decisions)) {
      const d = typeof entry === "string" ? { decision: entry } : entry;
      if (!d || (d.decision !== "accept" && d.decision !== "reject")) continue;
      decisions[id] = { decision: d.decision, reason: d.decision === "reject" && typeof d.reason === "string" ? d.reason : "" };
      n++;
    }
    save();
    return n;
  }

  return { get: get, set: set, setReason: setReason, counts: counts, toDocument: toDocument, merge: merge };
};
