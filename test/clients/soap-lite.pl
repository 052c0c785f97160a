#!/usr/bin/perl
# A SOAP client nobody here wrote: Perl's SOAP::Lite (Debian's libsoap-lite-perl) with its defaults,
# as a Perl integration of the platform would call it — SOAPAction "namespace#Operation",
# the credential in authorizationXml. Prints the HTTP status and the operation's result string.
# Usage: soap-lite.pl <endpoint> <operation> <authorizationXml> [name=value ...]
use strict;
use warnings;
use SOAP::Lite;

my ($endpoint, $operation, $authorization, @params) = @ARGV;
my $ns = 'http://www.eSignAnyWhere.com/';
my $client = SOAP::Lite->proxy($endpoint, timeout => 10)->ns($ns, 'tns');
$client->on_fault(sub { my ($soap, $res) = @_; print 'FAULT: ', (ref $res ? $res->faultstring : $soap->transport->status), "\n"; exit 1 });
my @args = (SOAP::Data->name('tns:authorizationXml' => $authorization));
for my $p (@params) {
  my ($name, $value) = split /=/, $p, 2;
  push @args, SOAP::Data->name("tns:$name" => $value);
}
my $som = $client->call(SOAP::Data->name("tns:$operation") => @args);
print 'HTTP: ', $client->transport->status, "\n";
print 'RESULT: ', ($som->result // ''), "\n";
