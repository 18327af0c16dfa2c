--[[
Impostor for Rspamd: asks `impostor serve` (POST /v1/scan) for its verdict
on each message and turns it into symbols.

  IMPOSTOR_HIGH / IMPOSTOR_MEDIUM / IMPOSTOR_LOW   the verdict's level (one
      at most; none for level "none"), the top reasons as options
  IMPOSTOR_ENVELOPE_FROM_SPOOF, IMPOSTOR_HEADER_FROM_SPOOF,
  IMPOSTOR_LOOKALIKE_DOMAIN, IMPOSTOR_FREEMAIL_IMPERSONATION,
  IMPOSTOR_ACCOUNT_COMPROMISE                      each technique named
  IMPOSTOR_FAIL                                    no verdict (refused,
      timed out, HTTP error, bad answer); score 0 by default, so a failing
      Impostor never changes an action

The request is asynchronous (rspamd_http, bound to the task), so a slow
Impostor holds only this message, at most `timeout` seconds. The SMTP
envelope Rspamd knows (MAIL FROM, RCPT TO, HELO, client IP) rides in the
query string, as serve expects.

Load it either as a plugin (copy to /etc/rspamd/plugins.d/impostor.lua and
add an `impostor { }` section, see impostor.conf) or with
`lua = "/path/to/impostor.lua"` in rspamd.conf.local. See
integrations/README.md.
]]

local N = 'impostor'

local rspamd_http = require "rspamd_http"
local rspamd_logger = require "rspamd_logger"
local ucl = require "ucl"

-- The verdict's levels and techniques, as Impostor names them.
local LEVELS = { 'high', 'medium', 'low' }
local TECHNIQUES = {
  'envelope_from_spoof',
  'header_from_spoof',
  'lookalike_domain',
  'freemail_impersonation',
  'account_compromise',
}

local settings = {
  url = 'http://127.0.0.1:8025/v1/scan',
  token = '',
  timeout = 2.0,
  -- Messages larger than this are not sent (serve's own default limit).
  max_size = 20 * 1024 * 1024,
  -- How many of the verdict's reasons become options of the level symbol.
  reasons = 3,
  group = 'impostor',
  -- Levels mirror `impostor milter`'s defaults: high rejects (Rspamd's
  -- stock reject is 15), medium adds a header (6), low only nudges.
  scores = { high = 15.0, medium = 6.0, low = 2.0, fail = 0.0 },
  technique_scores = {
    envelope_from_spoof = 1.0,
    header_from_spoof = 1.0,
    lookalike_domain = 1.0,
    freemail_impersonation = 1.0,
    account_compromise = 1.0,
  },
}

local function symbol_of(name)
  return 'IMPOSTOR_' .. string.upper(name)
end

-- Query-string encoding (RFC 3986 unreserved characters stay).
local function urlencode(s)
  return (string.gsub(s, '[^%w%-%._~]', function(c)
    return string.format('%%%02X', string.byte(c))
  end))
end

-- Codes from the answer go into symbol options and logs: keep them to the
-- characters a code has, whatever the answer holds.
local function clean(s, limit)
  s = string.gsub(tostring(s), '[^%w_%.%-]', '')
  return string.sub(s, 1, limit or 64)
end

local function envelope_query(task)
  local params = {}
  local from = task:get_from('smtp')
  if from and from[1] and from[1].addr and #from[1].addr > 0 then
    table.insert(params, 'mail_from=' .. urlencode(from[1].addr))
  end
  local ip = task:get_from_ip()
  if ip and ip:is_valid() then
    table.insert(params, 'client_ip=' .. urlencode(tostring(ip)))
  end
  local helo = task:get_helo()
  if helo and #helo > 0 then
    table.insert(params, 'helo=' .. urlencode(helo))
  end
  local rcpts = task:get_recipients('smtp')
  if rcpts then
    local list = {}
    for _, r in ipairs(rcpts) do
      -- serve splits the list on commas: an address holding one (a quoted
      -- local part) cannot be passed whole, and is left out.
      if r.addr and #r.addr > 0 and not string.find(r.addr, ',', 1, true) then
        table.insert(list, r.addr)
      end
    end
    if #list > 0 then
      table.insert(params, 'rcpt=' .. urlencode(table.concat(list, ',')))
    end
  end
  return table.concat(params, '&')
end

local function fail(task, why)
  -- Printable ASCII only: the text may quote the service's answer.
  why = string.sub((string.gsub(tostring(why), '[^%w _%.%-:/()+,=]', '')), 1, 160)
  rspamd_logger.infox(task, '%s: no verdict: %s', N, why)
  task:insert_result('IMPOSTOR_FAIL', 1.0, why)
end

local function apply(task, verdict)
  local level = type(verdict.level) == 'string' and verdict.level or ''
  local options = {}
  if type(verdict.reasons) == 'table' then
    for i, r in ipairs(verdict.reasons) do
      if i > settings.reasons then
        break
      end
      if type(r) == 'table' and r.code then
        local c = tonumber(r.contribution)
        if c then
          table.insert(options, string.format('%s(%+.2f)', clean(r.code), c))
        else
          table.insert(options, clean(r.code))
        end
      end
    end
  end
  if settings.scores[level] and level ~= 'fail' then
    task:insert_result(symbol_of(level), 1.0, options)
  end
  if type(verdict.techniques) == 'table' then
    for _, t in ipairs(verdict.techniques) do
      if type(t) == 'string' and settings.technique_scores[t] then
        task:insert_result(symbol_of(t), 1.0)
      end
    end
  end
  rspamd_logger.infox(task, '%s: level %s, score %s', N, clean(level),
      tonumber(verdict.score) or 'none')
end

local function impostor_check(task)
  local content = task:get_content()
  if not content then
    return
  end
  if #content > settings.max_size then
    fail(task, string.format('message larger than max_size (%d bytes)', settings.max_size))
    return
  end
  local url = settings.url
  local query = envelope_query(task)
  if #query > 0 then
    url = url .. (string.find(url, '?', 1, true) and '&' or '?') .. query
  end
  local headers = { ['Content-Type'] = 'message/rfc822' }
  if settings.token and #settings.token > 0 then
    headers['Authorization'] = 'Bearer ' .. settings.token
  end

  local function callback(err, code, body)
    if err then
      fail(task, tostring(err))
      return
    end
    local parser = ucl.parser()
    local ok, perr
    if type(body) == 'string' then
      ok, perr = parser:parse_string(body or '')
    elseif body then
      ok, perr = parser:parse_text(body)
    else
      ok, perr = false, 'empty answer'
    end
    local obj = ok and parser:get_object() or nil
    if code ~= 200 then
      local msg = type(obj) == 'table' and obj.error or ''
      fail(task, string.format('HTTP %s %s', code, msg))
      return
    end
    if type(obj) ~= 'table' then
      fail(task, 'answer is not JSON: ' .. tostring(perr))
      return
    end
    if obj.error and obj.error ~= ucl.null and type(obj.error) == 'string' then
      fail(task, 'Impostor: ' .. obj.error)
      return
    end
    apply(task, obj)
  end

  local ok = rspamd_http.request({
    task = task,
    url = url,
    body = content,
    headers = headers,
    timeout = settings.timeout,
    method = 'post',
    callback = callback,
  })
  if not ok then
    fail(task, 'cannot send the request to ' .. settings.url)
  end
end

-- Configuration: the `impostor { }` section, over the defaults above.
local opts = rspamd_config:get_all_opt(N)
if type(opts) == 'table' then
  for k, v in pairs(opts) do
    if k == 'scores' or k == 'technique_scores' then
      if type(v) == 'table' then
        for name, score in pairs(v) do
          if settings[k][name] == nil then
            rspamd_logger.errx(rspamd_config, '%s: unknown %s entry %s (known: %s)', N, k, name,
                k == 'scores' and 'high, medium, low, fail' or table.concat(TECHNIQUES, ', '))
          elseif tonumber(score) then
            settings[k][name] = tonumber(score)
          end
        end
      end
    elseif k == 'enabled' then
      -- Rspamd itself reads `enabled` for modules in plugins.d.
      if v == false then
        rspamd_logger.infox(rspamd_config, '%s: disabled in the configuration', N)
        return
      end
    elseif settings[k] ~= nil then
      settings[k] = v
    else
      rspamd_logger.warnx(rspamd_config, '%s: unknown option %s', N, k)
    end
  end
end
for k, default in pairs({ timeout = 2.0, max_size = 20 * 1024 * 1024, reasons = 3 }) do
  local n = tonumber(settings[k])
  if not n or n < 0 then
    rspamd_logger.errx(rspamd_config, '%s: %s must be a number, got %s; using %s', N, k, settings[k], default)
    n = default
  end
  settings[k] = n
end

if type(settings.url) ~= 'string' or not string.match(settings.url, '^https?://') then
  rspamd_logger.errx(rspamd_config, '%s: url must be http://HOST:PORT/v1/scan, got %s; plugin disabled',
      N, settings.url)
  return
end

local id = rspamd_config:register_symbol({
  name = 'IMPOSTOR_CHECK',
  type = 'callback',
  callback = impostor_check,
  group = settings.group,
  -- Rspamd extends the task's time limit by the request's.
  augmentations = { string.format('timeout=%f', settings.timeout) },
})

local function virtual(name, score, description)
  rspamd_config:register_symbol({
    name = name,
    type = 'virtual',
    parent = id,
  })
  rspamd_config:set_metric_symbol({
    name = name,
    score = score,
    description = description,
    group = settings.group,
    one_shot = true,
  })
end

for _, level in ipairs(LEVELS) do
  virtual(symbol_of(level), settings.scores[level],
      string.format('Impostor: forged or impersonating sender, level %s', level))
end
for _, t in ipairs(TECHNIQUES) do
  virtual(symbol_of(t), settings.technique_scores[t],
      string.format('Impostor: technique %s', t))
end
virtual('IMPOSTOR_FAIL', settings.scores.fail, 'Impostor: no verdict (service down, timeout or error)')

rspamd_logger.infox(rspamd_config, '%s: verdicts from %s (timeout %s s)', N, settings.url, settings.timeout)
