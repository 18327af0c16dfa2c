# Mail::SpamAssassin::Plugin::Impostor: Impostor's verdicts in SpamAssassin.
#
# Sends each message to `impostor serve` (POST /v1/scan, envelope data in
# the query string) once, on the first Impostor rule SpamAssassin runs, and
# answers the eval rules of impostor.cf from that verdict:
#
#   impostor_level('high'|'medium'|'low')   the verdict's level
#   impostor_technique('lookalike_domain')  a technique the verdict names
#   impostor_failed()                       no verdict (refused, timed out,
#                                           HTTP error, bad answer)
#
# Tags for add_header: _IMPOSTOR_ (level, score, techniques, top reasons),
# _IMPOSTORLEVEL_, _IMPOSTORSCORE_, _IMPOSTORTECHNIQUES_, _IMPOSTORREASONS_.
#
# Core Perl and SpamAssassin modules only (HTTP::Tiny, JSON::PP). A failing
# Impostor never fails the scan: the message gets IMPOSTOR_FAIL and is
# judged by the other rules. See integrations/README.md.

package Mail::SpamAssassin::Plugin::Impostor;

use strict;
use warnings;

use HTTP::Tiny;
use JSON::PP;
use Mail::SpamAssassin::Plugin;
use Mail::SpamAssassin::Logger;
use Mail::SpamAssassin::Timeout;

our @ISA = qw(Mail::SpamAssassin::Plugin);
our $VERSION = '0.1';

my %LEVELS = map { $_ => 1 } qw(high medium low);
my %TECHNIQUES = map { $_ => 1 } qw(
  envelope_from_spoof header_from_spoof lookalike_domain
  freemail_impersonation account_compromise
);

sub new {
  my ($class, $mailsa) = @_;
  $class = ref($class) || $class;
  my $self = $class->SUPER::new($mailsa);
  bless($self, $class);
  $self->register_eval_rule('impostor_level', $Mail::SpamAssassin::Conf::TYPE_HEAD_EVALS);
  $self->register_eval_rule('impostor_technique', $Mail::SpamAssassin::Conf::TYPE_HEAD_EVALS);
  $self->register_eval_rule('impostor_failed', $Mail::SpamAssassin::Conf::TYPE_HEAD_EVALS);
  $self->set_config($mailsa->{conf});
  return $self;
}

sub set_config {
  my ($self, $conf) = @_;
  my @cmds = (
    # Site configuration only (is_admin): a user_prefs file must not send
    # mail elsewhere or read the token.
    { setting => 'impostor_url', is_admin => 1,
      default => 'http://127.0.0.1:8025/v1/scan',
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_STRING },
    { setting => 'impostor_token', is_admin => 1, default => '',
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_STRING },
    # Seconds one message may wait for its verdict, in all.
    { setting => 'impostor_timeout', is_admin => 1, default => 2,
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_NUMERIC },
    # Larger messages are not sent (serve refuses over 20 MB).
    { setting => 'impostor_max_size', is_admin => 1, default => 20 * 1024 * 1024,
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_NUMERIC },
    # How many of the verdict's reasons go into _IMPOSTORREASONS_.
    { setting => 'impostor_reasons', default => 3,
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_NUMERIC },
    # A header an MTA in front adds with the envelope recipients (e.g.
    # X-Original-To); empty: none sent, SpamAssassin does not know them.
    { setting => 'impostor_rcpt_header', is_admin => 1, default => '',
      type => $Mail::SpamAssassin::Conf::CONF_TYPE_STRING },
  );
  $conf->{parser}->register_commands(\@cmds);
}

# The tags are closures: they ask Impostor only if a template uses them
# and no rule has asked yet.
sub parsed_metadata {
  my ($self, $opts) = @_;
  my $pms = $opts->{permsgstatus};
  $pms->set_tag('IMPOSTOR', sub { _summary($self->_verdict($pms)) });
  $pms->set_tag('IMPOSTORLEVEL', sub {
    my $r = $self->_verdict($pms);
    $r->{ok} ? $r->{level} : 'error';
  });
  $pms->set_tag('IMPOSTORSCORE', sub {
    my $r = $self->_verdict($pms);
    $r->{ok} ? sprintf('%.3f', $r->{score}) : '';
  });
  $pms->set_tag('IMPOSTORTECHNIQUES', sub {
    my $r = $self->_verdict($pms);
    $r->{ok} ? (join(',', @{ $r->{techniques} }) || 'none') : '';
  });
  $pms->set_tag('IMPOSTORREASONS', sub {
    my $r = $self->_verdict($pms);
    $r->{ok} ? join(' ', @{ $r->{reasons} }) : '';
  });
  return 1;
}

sub impostor_level {
  my ($self, $pms, $level) = @_;
  return 0 unless defined $level && $LEVELS{ lc $level };
  my $r = $self->_verdict($pms);
  return ($r->{ok} && $r->{level} eq lc $level) ? 1 : 0;
}

sub impostor_technique {
  my ($self, $pms, $technique) = @_;
  return 0 unless defined $technique && $TECHNIQUES{ lc $technique };
  my $r = $self->_verdict($pms);
  return 0 unless $r->{ok};
  return (grep { $_ eq lc $technique } @{ $r->{techniques} }) ? 1 : 0;
}

sub impostor_failed {
  my ($self, $pms) = @_;
  my $r = $self->_verdict($pms);
  return $r->{ok} ? 0 : 1;
}

# Only the characters a code or level has: the answer is not trusted to
# be safe in a header.
sub _clean {
  my ($s, $limit) = @_;
  $s = '' unless defined $s;
  $s =~ s/[^A-Za-z0-9_.\-]//g;
  return substr($s, 0, $limit || 64);
}

sub _summary {
  my ($r) = @_;
  return 'error (' . $r->{error} . ')' unless $r->{ok};
  my $s = sprintf('level=%s score=%.3f techniques=%s', $r->{level}, $r->{score},
    join(',', @{ $r->{techniques} }) || 'none');
  $s .= ' reasons=' . join(',', @{ $r->{reasons} }) if @{ $r->{reasons} };
  return $s;
}

sub _urlencode {
  my ($s) = @_;
  $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord($1))/ge;
  return $s;
}

# The SMTP envelope as far as SpamAssassin knows it: MAIL FROM (its
# EnvelopeFrom: envelope_sender_header, X-Envelope-From, a trusted
# Return-Path), the client and HELO of the first relay outside
# internal_networks, and recipients from impostor_rcpt_header if set.
sub _envelope_query {
  my ($self, $pms) = @_;
  my $conf = $pms->{conf};
  my @q;
  my $from = $pms->get('EnvelopeFrom:addr', undef);
  push @q, 'mail_from=' . _urlencode($from) if defined $from && $from =~ /\@/;
  my $relay = $pms->{relays_external} && $pms->{relays_external}->[0];
  if ($relay) {
    my $ip = $relay->{ip};
    push @q, 'client_ip=' . _urlencode($ip)
      if defined $ip && $ip =~ /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
    my $helo = $relay->{helo};
    push @q, 'helo=' . _urlencode($helo) if defined $helo && $helo ne '';
  }
  my $rcpt_header = $conf->{impostor_rcpt_header};
  if (defined $rcpt_header && $rcpt_header =~ /^[A-Za-z0-9-]+$/) {
    my @rcpts = $pms->get("$rcpt_header:addr", undef);
    @rcpts = grep { defined && /\@/ && !/,/ } @rcpts;
    push @q, 'rcpt=' . _urlencode(join(',', @rcpts)) if @rcpts;
  }
  return join('&', @q);
}

# The verdict of this message, asked once and kept on $pms:
# { ok => 1, level, score, techniques => [...], reasons => [...] }
# or { ok => 0, error => '...' }.
sub _verdict {
  my ($self, $pms) = @_;
  return $pms->{impostor_verdict} if $pms->{impostor_verdict};
  my $r = eval { $self->_ask($pms) };
  if (!$r) {
    my $e = $@ || 'unknown error';
    $r = { ok => 0, error => $e };
  }
  if (!$r->{ok}) {
    my $e = $r->{error};
    $e =~ s/[^\x20-\x7e]+/ /g;
    $e =~ s/^\s+|\s+$//g;
    $r->{error} = substr($e, 0, 160);
    info("impostor: no verdict: $r->{error}");
  } else {
    dbg("impostor: level $r->{level}, score $r->{score}");
  }
  $pms->{impostor_verdict} = $r;
  return $r;
}

sub _ask {
  my ($self, $pms) = @_;
  my $conf = $pms->{conf};
  my $raw = $pms->{msg}->get_pristine();
  if (length($raw) > $conf->{impostor_max_size}) {
    return { ok => 0, error => "message larger than impostor_max_size ($conf->{impostor_max_size} bytes)" };
  }
  my $url = $conf->{impostor_url};
  return { ok => 0, error => "impostor_url must be http://HOST:PORT/v1/scan, got $url" }
    unless $url =~ m{^https?://};
  my $query = $self->_envelope_query($pms);
  $url .= ($url =~ /\?/ ? '&' : '?') . $query if $query ne '';
  my %headers = ('Content-Type' => 'message/rfc822');
  $headers{Authorization} = "Bearer $conf->{impostor_token}" if $conf->{impostor_token} ne '';

  my $timeout = $conf->{impostor_timeout};
  $timeout = 2 unless $timeout > 0;
  my $response;
  # HTTP::Tiny's timeout bounds each read, not the whole request: the
  # timer bounds the whole (a service trickling bytes cannot hold us).
  my $timer = Mail::SpamAssassin::Timeout->new({ secs => $timeout + 1 });
  $timer->run_and_catch(sub {
    my $http = HTTP::Tiny->new(
      timeout => $timeout,
      agent => "impostor-spamassassin/$VERSION",
      max_size => 1024 * 1024,
    );
    $response = $http->request('POST', $url, { headers => \%headers, content => $raw });
  });
  return { ok => 0, error => 'timed out' } if $timer->timed_out() || !$response;
  if (!$response->{success}) {
    # HTTP::Tiny reports its own failures (refused, timeout) as 599 with
    # the reason in the content.
    my $why = $response->{status} == 599 ? $response->{content} : "HTTP $response->{status}";
    if ($response->{status} != 599) {
      my $answer = eval { JSON::PP->new->utf8->decode($response->{content}) };
      $why .= ": $answer->{error}" if ref $answer eq 'HASH' && defined $answer->{error} && !ref $answer->{error};
    }
    return { ok => 0, error => $why };
  }
  my $v = eval { JSON::PP->new->utf8->decode($response->{content}) };
  return { ok => 0, error => 'the answer is not JSON' } unless ref $v eq 'HASH';
  return { ok => 0, error => "Impostor: $v->{error}" } if defined $v->{error} && !ref $v->{error};
  my $level = lc(_clean($v->{level}, 16));
  return { ok => 0, error => 'the answer has no level' } if $level eq '';
  my @techniques = grep { $TECHNIQUES{$_} }
    map { lc _clean($_) } (ref $v->{techniques} eq 'ARRAY' ? @{ $v->{techniques} } : ());
  my @reasons;
  my $keep = $conf->{impostor_reasons};
  for my $reason (ref $v->{reasons} eq 'ARRAY' ? @{ $v->{reasons} } : ()) {
    last if @reasons >= $keep;
    next unless ref $reason eq 'HASH' && defined $reason->{code};
    my $code = _clean($reason->{code});
    my $c = $reason->{contribution};
    push @reasons, (defined $c && $c =~ /^-?[0-9.eE+-]+$/) ? sprintf('%s(%+.2f)', $code, $c) : $code;
  }
  my $score = $v->{score};
  $score = 0 unless defined $score && $score =~ /^-?[0-9.eE+-]+$/;
  return { ok => 1, level => $level, score => $score + 0, techniques => \@techniques, reasons => \@reasons };
}

1;
