// The web chat page: sends what the person types or taps, and shows the bot's replies.
(function () {
  'use strict';
  var ui = window.CHAT_UI;
  var locale = window.CHAT_DEFAULT_LOCALE;
  var log = document.getElementById('log');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var photo = document.getElementById('photo');
  var statusLine = document.getElementById('status');
  var lastSeq = 0;
  var polling = false;

  function randomId(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  var session = localStorage.getItem('chat-session');
  if (!session) { session = randomId(16); localStorage.setItem('chat-session', session); }

  function s(key) { return (ui[locale] && ui[locale][key]) || ui[window.CHAT_DEFAULT_LOCALE][key] || key; }
  function applyLabels() {
    document.documentElement.lang = locale;
    document.getElementById('title').textContent = s('title');
    document.getElementById('subtitle').textContent = s('subtitle');
    document.getElementById('photo-text').textContent = s('photo');
    document.getElementById('send').textContent = s('send');
    input.placeholder = s('placeholder');
    statusLine.textContent = s('offline');
  }

  function showOffline() {
    statusLine.textContent = s('offline');
    statusLine.hidden = false;
  }

  function bubble(cls) {
    var div = document.createElement('div');
    div.className = 'msg ' + cls;
    log.appendChild(div);
    return div;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  function showMine(text, imageUrl) {
    var div = bubble('me');
    if (imageUrl) { var img = document.createElement('img'); img.src = imageUrl; img.alt = s('photoSent'); div.appendChild(img); }
    if (text) div.appendChild(document.createTextNode(text));
    scroll();
  }

  function showBot(m) {
    var div = bubble('bot');
    div.dataset.seq = m.seq;
    if (m.photo && m.photo.url) { var img = document.createElement('img'); img.src = m.photo.url; img.alt = ''; div.appendChild(img); }
    div.appendChild(document.createTextNode(m.text || ''));
    if ((m.choices && m.choices.length) || m.askLocation) {
      var box = document.createElement('div');
      box.className = 'choices';
      if (m.askLocation && navigator.geolocation) {
        // The browser's own location, when the person allows it; typing a place works too.
        var share = document.createElement('button');
        share.type = 'button';
        share.textContent = m.askLocation;
        share.addEventListener('click', function () {
          navigator.geolocation.getCurrentPosition(function (pos) {
            showMine('📍 ' + pos.coords.latitude.toFixed(5) + ', ' + pos.coords.longitude.toFixed(5));
            send({ location: { latitude: pos.coords.latitude, longitude: pos.coords.longitude } });
          }, function () { statusLine.textContent = s('locationDenied'); statusLine.hidden = false; });
        });
        box.appendChild(share);
      }
      (m.choices || []).forEach(function (row) {
        var r = document.createElement('div');
        r.className = 'row';
        row.forEach(function (c) {
          var b = document.createElement('button');
          b.type = 'button';
          b.textContent = c.label;
          b.addEventListener('click', function () { showMine(c.label); send({ choice: c.id }); });
          r.appendChild(b);
        });
        box.appendChild(r);
      });
      div.appendChild(box);
    }
    scroll();
  }

  function fetchMessages() {
    return fetch('/api/web/messages?session=' + session + '&after=' + lastSeq)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        statusLine.hidden = true;
        if (data.locale && data.locale !== locale) { locale = data.locale; applyLabels(); }
        data.messages.forEach(function (m) { if (m.seq > lastSeq) { lastSeq = m.seq; showBot(m); } });
      })
      .catch(showOffline);
  }

  function send(body) {
    body.session = session;
    body.id = randomId(12);
    return fetch('/api/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) { if (!r.ok) throw new Error(r.status); })
      .then(fetchMessages)
      .catch(showOffline);
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = '';
    showMine(text);
    send({ text: text });
  });

  photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    photo.value = '';
    if (!file) return;
    if (file.size > 10 * 1024 * 1024) { var d = bubble('bot'); d.textContent = s('photoTooBig'); return; }
    showMine('', URL.createObjectURL(file));
    var id = randomId(12);
    fetch('/api/web/photos?session=' + session + '&id=' + id, { method: 'POST', headers: { 'content-type': file.type || 'image/jpeg' }, body: file })
      .then(function (r) { if (!r.ok) throw new Error(r.status); })
      .then(fetchMessages)
      .catch(showOffline);
  });

  function poll() {
    if (polling) return;
    polling = true;
    fetchMessages().then(function () { polling = false; setTimeout(poll, 2000); });
  }

  applyLabels();
  fetchMessages().then(function () {
    // A first visit starts the conversation by itself.
    if (lastSeq === 0) send({ text: '/start' });
    setTimeout(poll, 2000);
  });
})();
